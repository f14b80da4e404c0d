/**
 * A small schema kit for wire bodies: each command's body is described once, and from that one value
 * come the validator the server runs on every inbound frame, the TypeScript type of the body
 * (`Infer<typeof schema>`) and the command list.
 *
 * Hand-written rather than a schema library: the checks must be bounded by construction (sizes in UTF-8
 * bytes, item counts, no recursion into what a client nests) and refuse hostile shapes by type before any
 * coercion, and the protocol package stays dependency-free (the shim shares its types). It is about a
 * hundred lines; the rules cover exactly what the legacy protocol carries.
 */
import { utf8Length } from './constants';

/** What a rule admits, for readers of the schema (docs, test generators): its kind and its bounds. */
export type RuleInfo =
  | { kind: 'str'; max: number; nonEmpty?: boolean; prefix?: string }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'oneOf'; values: readonly (string | number)[] }
  | { kind: 'strOrInt'; max: number }
  | { kind: 'array'; item: Rule<unknown>; minItems: number; maxItems: number }
  | { kind: 'object'; shape: Record<string, Rule<unknown>> }
  | { kind: 'maybe'; inner: Rule<unknown> }
  | { kind: 'bool' }
  | { kind: 'ignored' };

/**
 * What is wrong with a body: a message naming the field, and whether it is only too large (a string over
 * its bytes, an array over its items): a page can send that through the API, and hears "too large".
 */
export interface Fault {
  message: string;
  tooLarge?: true;
}

const fault = (message: string): Fault => ({ message });
const tooLarge = (message: string): Fault => ({ message, tooLarge: true });

/** A rule checks a value (null = valid, else what is wrong) and carries the type it admits. */
export interface Rule<T> {
  readonly optional: boolean;
  readonly info: RuleInfo;
  /** What the value means, for generated documents (docs/openapi.json); see `described`. */
  readonly description?: string;
  check(v: unknown, path: string): Fault | null;
  /** Phantom: the admitted type (never set at run time). */
  readonly _type?: T;
}

export type Infer<R> = R extends Rule<infer T> ? T : never;

type Shape = Record<string, Rule<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['optional'] extends true ? K : never }[keyof S];
type Flatten<T> = { [K in keyof T]: T[K] };
export type InferObject<S extends Shape> = Flatten<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
  }
>;

function rule<T>(
  info: RuleInfo,
  check: (v: unknown, path: string) => Fault | null,
): Rule<T> & {
  opt(): Rule<T | undefined> & { optional: true };
} {
  return {
    optional: false,
    info,
    check,
    opt: () => ({
      optional: true as const,
      info,
      check: (v: unknown, path: string) => (v === undefined ? null : check(v, path)),
    }),
  };
}

/** A string of at most `max` UTF-8 bytes (the length test first: no counting of what cannot fit). */
export function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max && utf8Length(v) <= max;
}

export const s = {
  /** A string of at most `max` UTF-8 bytes; `nonEmpty` refuses ''; `prefix` requires a start. */
  str(max: number, o: { nonEmpty?: boolean; prefix?: string } = {}) {
    return rule<string>({ kind: 'str', max, ...o }, (v, p) => {
      if (typeof v !== 'string') return fault(`${p} must be a string of at most ${max} bytes`);
      if (!isText(v, max)) return tooLarge(`${p} is over ${max} bytes`);
      if (o.nonEmpty && v === '') return fault(`${p} must not be empty`);
      if (o.prefix !== undefined && !v.startsWith(o.prefix)) return fault(`${p} must start with ${o.prefix}`);
      return null;
    });
  },
  /** An integer in [min, max]. */
  int(min: number, max: number) {
    return rule<number>({ kind: 'int', min, max }, (v, p) =>
      typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
        ? null
        : fault(`${p} must be an integer from ${min} to ${max}`),
    );
  },
  /** One of the listed primitive values. */
  oneOf<const V extends readonly (string | number)[]>(values: V) {
    return rule<V[number]>({ kind: 'oneOf', values }, (v, p) =>
      (values as readonly unknown[]).includes(v) ? null : fault(`${p} must be one of ${values.join(', ')}`),
    );
  },
  /** A string of at most `max` bytes, or a safe integer (ids some clients send as numbers). */
  strOrInt(max: number) {
    return rule<string | number>({ kind: 'strOrInt', max }, (v, p) =>
      isText(v, max) || (typeof v === 'number' && Number.isSafeInteger(v))
        ? null
        : typeof v === 'string'
          ? tooLarge(`${p} is over ${max} bytes`)
          : fault(`${p} must be a string of at most ${max} bytes or an integer`),
    );
  },
  /** An array of at most `maxItems` (and at least `minItems`) items, each checked by `item`. */
  array<T>(item: Rule<T>, maxItems: number, minItems = 0) {
    return rule<T[]>({ kind: 'array', item, minItems, maxItems }, (v, p) => {
      if (Array.isArray(v) && v.length > maxItems) return tooLarge(`${p} has over ${maxItems} items`);
      if (!Array.isArray(v) || v.length < minItems)
        return fault(`${p} must be an array of ${minItems} to ${maxItems} items`);
      for (let i = 0; i < v.length; i++) {
        const bad = item.check(v[i], `${p}[${i}]`);
        if (bad) return bad;
      }
      return null;
    });
  },
  /** An object with these fields (others are ignored: clients send fields we do not read). */
  object<S extends Shape>(shape: S) {
    const entries = Object.entries(shape);
    return rule<InferObject<S>>({ kind: 'object', shape }, (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fault(`${p} must be an object`);
      const o = v as Record<string, unknown>;
      for (const [k, r] of entries) {
        // Own properties only: a missing field never reads through the prototype chain.
        const bad = r.check(
          Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined,
          p ? `${p}.${k}` : k,
        );
        if (bad) return bad;
      }
      return null;
    });
  },
  /** Optional, and null is as good as absent (browsers give `sdpMid: null`). */
  maybe<T>(r: Rule<T>): Rule<T | null | undefined> & { optional: true } {
    return {
      optional: true,
      info: { kind: 'maybe', inner: r },
      check: (v, p) => (v === undefined || v === null ? null : r.check(v, p)),
    };
  },
  /** true or false. */
  bool() {
    return rule<boolean>({ kind: 'bool' }, (v, p) =>
      typeof v === 'boolean' ? null : fault(`${p} must be true or false`),
    );
  },
  /** Anything: fields the server never reads (bounded by the frame size). */
  ignored() {
    return rule<unknown>({ kind: 'ignored' }, () => null);
  },
};

/**
 * The same rule with a description for generated documents (the admin API's OpenAPI document): what a
 * field means is written once, beside its bounds.
 *
 * @example
 *   const body = s.object({ roomId: described(s.str(256, { nonEmpty: true }), 'The room, as pages name it') });
 */
export function described<R extends Rule<unknown>>(r: R, description: string): R {
  return { ...r, description };
}

/** null when `v` satisfies `r`, else what is wrong, naming the bad field (top-level fields by name). */
export function checkBody(r: Rule<unknown>, v: unknown): Fault | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fault('body must be an object');
  return r.check(v, '');
}
