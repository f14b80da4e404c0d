/**
 * JSON Schema (2020-12, the dialect of OpenAPI 3.1) from the schema kit's rules: the admin API's OpenAPI
 * document is generated from the very rules its handlers validate with, so the two cannot drift.
 *
 * Strings are bounded in UTF-8 bytes by the kit; JSON Schema counts characters, so `maxLength` carries
 * the byte bound (no string within it has more characters) and the description says "bytes".
 */
import type { Rule } from './schema';

/** A JSON Schema object (only what the kit's rules produce). */
export type JsonSchema = Record<string, unknown>;

function withDescription(schema: JsonSchema, r: Rule<unknown>): JsonSchema {
  return r.description === undefined ? schema : { description: r.description, ...schema };
}

/** The JSON Schema of a rule; `null` is admitted only where the kit admits it (`s.maybe`). */
export function toJsonSchema(r: Rule<unknown>): JsonSchema {
  const i = r.info;
  switch (i.kind) {
    case 'str': {
      const out: JsonSchema = { type: 'string', maxLength: i.max };
      if (i.nonEmpty) out.minLength = 1;
      if (i.prefix !== undefined) out.pattern = `^${i.prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`;
      out['x-max-utf8-bytes'] = i.max;
      return withDescription(out, r);
    }
    case 'int':
      return withDescription({ type: 'integer', minimum: i.min, maximum: i.max }, r);
    case 'bool':
      return withDescription({ type: 'boolean' }, r);
    case 'oneOf':
      return withDescription({ enum: [...i.values] }, r);
    case 'strOrInt':
      return withDescription(
        { oneOf: [{ type: 'string', maxLength: i.max, 'x-max-utf8-bytes': i.max }, { type: 'integer' }] },
        r,
      );
    case 'array': {
      const out: JsonSchema = { type: 'array', items: toJsonSchema(i.item), maxItems: i.maxItems };
      if (i.minItems > 0) out.minItems = i.minItems;
      return withDescription(out, r);
    }
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [k, v] of Object.entries(i.shape)) {
        properties[k] = toJsonSchema(v);
        if (!v.optional) required.push(k);
      }
      const out: JsonSchema = { type: 'object', properties };
      if (required.length) out.required = required;
      return withDescription(out, r);
    }
    case 'maybe':
      return withDescription({ oneOf: [toJsonSchema(i.inner), { type: 'null' }] }, r);
    case 'ignored':
      return withDescription({}, r);
  }
}
