/**
 * Hostile frames for fast-check: the real shape of each command (field names from the protocol's own
 * tables) with hostile values: deep nesting (thousands of nested arrays/objects), huge strings (near and
 * over limits.maxFrameBytes = 64 KiB), wrong types everywhere (header too), numbers JSON can write but
 * JavaScript cannot hold, prototype keys as keys and as values, non-JSON, binary and empty frames.
 *
 * Values are a small tree (`J`) rendered to JSON text by hand, so a frame can hold what JSON.stringify
 * cannot produce (an own `__proto__` key, duplicate keys, 1e309, -0, 30,000 nested arrays) and so that
 * fast-check prints a short label instead of 64 KiB when it reports a counterexample.
 */
import fc from 'fast-check';
import type { Sent } from './contract';

/** Literal JSON text with a short label for reports. */
export class Raw {
  constructor(
    readonly text: string,
    readonly label: string,
  ) {}
}
/** A value known only at run time (the session id of the live login, a fresh token...). */
export class Ref {
  constructor(readonly name: string) {}
}
/** A JSON object as an ordered list of entries: own `__proto__` keys and duplicate keys are possible. */
export class Obj {
  constructor(readonly entries: [string, J][]) {}
}
/** A field whose value is a JSON *string* (stream_msg, custom_msg, signal_msg): the tree, serialised. */
export class Embed {
  constructor(readonly value: J) {}
}
export type J = Raw | Ref | Obj | Embed | J[] | string | number | boolean | null | { [k: string]: J };

export type Ctx = Record<string, unknown>;

export function toJson(v: J, ctx: Ctx): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Ref) return JSON.stringify(ctx[v.name] ?? null);
  if (v instanceof Embed) return JSON.stringify(toJson(v.value, ctx));
  if (v instanceof Obj)
    return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x, ctx)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map((x) => toJson(x, ctx)).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x, ctx)}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** A short rendering for counterexample reports. */
export function show(v: J): string {
  if (v instanceof Raw) return `‹${v.label}›`;
  if (v instanceof Ref) return `‹${v.name}›`;
  if (v instanceof Embed) return `JSON‹${show(v.value)}›`;
  if (v instanceof Obj)
    return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}: ${show(x)}`).join(', ')}}`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${show(x)}`)
      .join(', ')}}`;
  if (typeof v === 'string' && v.length > 80) return `${JSON.stringify(v.slice(0, 40))}…(${v.length} chars)`;
  if (Object.is(v, -0)) return '-0';
  return JSON.stringify(v) ?? String(v);
}

// ------------------------------------------------------------------------------------------- values

export const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  '__defineGetter__',
  'toJSON',
];

const nested = (d: number, open: string, close: string, inner: string, what: string) =>
  new Raw(open.repeat(d) + inner + close.repeat(d), `${d} nested ${what}`);

/** Depths from the issue (3,500) up to what fits in 64 KiB, and beyond (closed 1009). */
export const deep: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom(64, 1000, 3500, 10_000, 30_000).map((d) => nested(d, '[', ']', '', 'arrays')),
  fc.constantFrom(3500, 20_000).map((d) => nested(d, '[', ']', '"x"', 'arrays around "x"')),
  fc.constantFrom(1000, 3500, 12_000).map((d) => nested(d, '{"a":', '}', '0', 'objects')),
  fc.constantFrom(1000, 3500).map((d) => nested(d, '[{"__proto__":', '}]', '[]', '[{"__proto__": …}]')),
  fc.constantFrom(1000, 3500).map((d) => nested(d, '{"toString":[', ']}', '1', '{"toString": […]}')),
);

/** Deep but small enough to sit inside a 4 KiB JSON-string field. */
export const deepSmall: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom(100, 1000, 2000).map((d) => nested(d, '[', ']', '', 'arrays')),
  fc.constantFrom(100, 600).map((d) => nested(d, '{"a":', '}', '0', 'objects')),
);

const bigString = (n: number, ch: string) =>
  new Raw(JSON.stringify(ch.repeat(n)), `${JSON.stringify(ch)}×${n}`);

/** Sizes around the limits: 4 KiB and 8 KiB field limits, 64 KiB frame limit, well over it. */
export const huge: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom(4097, 8193, 60_000, 65_000, 65_536, 70_000, 300_000).map((n) => bigString(n, 'x')),
  fc.constantFrom(1400, 21_000, 30_000).map((n) => bigString(n, '€')),
  fc.constantFrom(1100, 16_000).map((n) => bigString(n, '😀')),
  fc.constantFrom(10_000).map((n) => bigString(n, '\u0000')),
  fc
    .constantFrom(2000, 20_000)
    .map((n) => new Raw(`[${new Array<string>(n).fill('0').join(',')}]`, `array of ${n} zeros`)),
  fc
    .constantFrom(3000)
    .map(
      (n) =>
        new Raw(`{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`, `object of ${n} keys`),
    ),
);

const oddNumbers: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom(
    ...[
      '1e309',
      '-1e309',
      '-0',
      '1e-400',
      '123456789012345678901234567890',
      '9007199254740993',
      '-9007199254740993',
      '1E+2',
      '1e21',
      '0.1e1',
    ].map((t) => new Raw(t, t)),
  ),
  fc.constantFrom<J>(
    -1,
    -(2 ** 31),
    2 ** 31,
    2 ** 32,
    2 ** 53,
    -(2 ** 53),
    1.5,
    -0.5,
    Number.MAX_VALUE,
    5e-324,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const oddStrings: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom<J>(
    '',
    ' ',
    '0',
    '-1',
    '1e3',
    'NaN',
    'Infinity',
    'null',
    'undefined',
    'true',
    '[object Object]',
    '\u0000',
    '\ud800',
    '\udfff',
    '\u2028',
    '<script>',
    '../../etc/passwd',
    '%',
    '%00',
    '{}',
    '[]',
    'hb',
    'login',
    '%s%s%s',
    '${x}',
    'bystander',
    'bystander-room',
  ),
  fc.constantFrom<J>(...PROTO_KEYS),
  fc.string({ maxLength: 40 }),
  fc.fullUnicodeString({ maxLength: 20 }),
);

const prims: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom<J>(null, true, false),
  oddNumbers,
  oddStrings,
  fc.constantFrom<J>([], new Obj([]), [null], [[]]),
);

const protoObj: fc.Arbitrary<J> = fc
  .array(fc.tuple(fc.constantFrom(...PROTO_KEYS), prims), { minLength: 1, maxLength: 4 })
  .map((es) => new Obj(es));

/** Wrong types and odd values that stay small. */
export const light: fc.Arbitrary<J> = fc.oneof(
  { weight: 6, arbitrary: prims },
  { weight: 2, arbitrary: protoObj },
  { weight: 1, arbitrary: fc.array(prims, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<J> },
);

/** Deep or huge. */
export const heavy: fc.Arbitrary<J> = fc.oneof(
  { weight: 3, arbitrary: deep },
  { weight: 2, arbitrary: huge },
);

export const hostile: fc.Arbitrary<J> = fc.oneof(
  { weight: 3, arbitrary: light },
  { weight: 1, arbitrary: heavy },
);

export const OMIT = Symbol('omit');
export type Field = J | typeof OMIT;

/** A body or header field: mostly the real thing, sometimes the wrong thing, sometimes missing. */
export function field(valid: fc.Arbitrary<J>, validWeight = 12): fc.Arbitrary<Field> {
  return fc.oneof(
    { weight: validWeight, arbitrary: valid as fc.Arbitrary<Field> },
    { weight: 3, arbitrary: light as fc.Arbitrary<Field> },
    { weight: 1, arbitrary: heavy as fc.Arbitrary<Field> },
    { weight: 1, arbitrary: fc.constant<Field>(OMIT) },
  );
}

/** Inside a JSON-string field: the real thing, wrong types, or deep nesting that still fits 4 KiB. */
export function embedded(valid: fc.Arbitrary<J>): fc.Arbitrary<Field> {
  return fc.oneof(
    { weight: 6, arbitrary: valid as fc.Arbitrary<Field> },
    { weight: 3, arbitrary: light as fc.Arbitrary<Field> },
    { weight: 1, arbitrary: deepSmall as fc.Arbitrary<Field> },
    { weight: 1, arbitrary: fc.constant<Field>(OMIT) },
  );
}

/** An object from named fields (OMIT drops one), sometimes with prototype keys added. */
export function object(fields: Record<string, fc.Arbitrary<Field>>): fc.Arbitrary<Obj> {
  const names = Object.keys(fields);
  return fc
    .tuple(
      fc.tuple(...names.map((n) => fields[n]!)),
      fc.oneof(
        { weight: 5, arbitrary: fc.constant<[string, J][]>([]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS), hostile), { maxLength: 2 }),
        },
      ),
    )
    .map(([values, extra]) => {
      const entries: [string, J][] = [];
      names.forEach((n, i) => {
        const v = values[i];
        if (v !== OMIT && v !== undefined) entries.push([n, v]);
      });
      return new Obj([...entries, ...extra]);
    });
}

// ------------------------------------------------------------------------------------------- frames

/** One generated frame; rendered against the live context at send time. */
export class Frame {
  constructor(
    readonly kind: 'json' | 'text' | 'binary-json' | 'binary' | 'truncated',
    readonly value: J,
    readonly text = '',
    readonly bytes: Buffer | null = null,
  ) {}

  render(ctx: Ctx): Sent {
    switch (this.kind) {
      case 'json':
        return { data: toJson(this.value, ctx), binary: false };
      case 'truncated': {
        const t = toJson(this.value, ctx);
        return { data: t.slice(0, Math.max(0, t.length - Number(this.text))), binary: false };
      }
      case 'text':
        return { data: this.text, binary: false };
      case 'binary-json':
        return { data: Buffer.from(toJson(this.value, ctx)), binary: true };
      case 'binary':
        return { data: this.bytes ?? Buffer.alloc(0), binary: true };
    }
  }

  [fc.toStringMethod](): string {
    switch (this.kind) {
      case 'json':
        return show(this.value);
      case 'truncated':
        return `${show(this.value)} minus its last ${this.text} characters`;
      case 'text':
        return `text ${JSON.stringify(this.text.length > 120 ? `${this.text.slice(0, 120)}…` : this.text)}`;
      case 'binary-json':
        return `binary frame of ${show(this.value)}`;
      case 'binary':
        return `binary frame ${this.bytes?.length ?? 0} bytes ${this.bytes?.subarray(0, 24).toString('hex')}`;
    }
  }
}

const notJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '{"header":',
    '{"header":{}',
    'null garbage',
    '\u0000',
    'undefined',
    'NaN',
    "{'header':{}}",
    '{"header":{"cmd":"hb"},}',
    '[1,]',
    '\ufeff{}',
  ),
  fc.string({ maxLength: 60 }),
  fc.fullUnicodeString({ maxLength: 30 }),
);

/** Every place a value sits in a tree (object entries, array items), for `replaceAt`. */
function slots(v: J): number {
  if (v instanceof Obj) return v.entries.reduce((n, [, x]) => n + 1 + slots(x), 0);
  if (Array.isArray(v)) return v.reduce<number>((n, x) => n + 1 + slots(x), 0);
  return 0;
}

/** A copy of `v` with its k-th slot (depth first) replaced by `by`. */
function replaceAt(v: J, k: number, by: J): J {
  let i = k;
  const walk = (x: J): J => {
    if (x instanceof Obj)
      return new Obj(
        x.entries.map(([key, val]): [string, J] => {
          if (i-- === 0) return [key, by];
          return [key, i < 0 ? val : walk(val)];
        }),
      );
    if (Array.isArray(x))
      return x.map((val) => {
        if (i-- === 0) return by;
        return i < 0 ? val : walk(val);
      });
    return x;
  };
  return walk(v);
}

/**
 * One place of a frame (header field, body field, item of a list...) made deep or huge; half the time a
 * header field, since the header is read before anything else (and gates the body checks).
 */
function focused(shaped: fc.Arbitrary<Obj>): fc.Arbitrary<Frame> {
  return fc.tuple(shaped, fc.boolean(), fc.nat(), heavy).map(([o, inHeader, k, v]) => {
    const n = slots(o);
    const header = o.entries[0]?.[1] ?? null;
    const inHead = header === null ? 0 : slots(header);
    // Slot 0 is the header entry itself: a wholly hostile header has its own variant.
    const at = inHeader && inHead > 0 ? 1 + (k % inHead) : n > 1 ? 1 + (k % (n - 1)) : -1;
    return new Frame('json', at > 0 ? replaceAt(o, at, v) : o);
  });
}

/**
 * The frame-level mix around a well-shaped {header, body}: mostly that frame, sometimes the header or
 * the body or the whole frame replaced, duplicate keys, prototype keys at the top, non-JSON, truncated
 * JSON, binary and empty frames.
 */
export function frames(header: fc.Arbitrary<Obj>, body: fc.Arbitrary<Obj>): fc.Arbitrary<Frame> {
  const shaped = fc.tuple(header, body).map(
    ([h, b]) =>
      new Obj([
        ['header', h],
        ['body', b],
      ]),
  );
  // Cross-shrinking lets a failing odd variant shrink towards the plain shaped frame.
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 14, arbitrary: shaped.map((v) => new Frame('json', v)) },
    { weight: 10, arbitrary: focused(shaped) },
    {
      weight: 1,
      arbitrary: fc.tuple(hostile, body).map(
        ([h, b]) =>
          new Frame(
            'json',
            new Obj([
              ['header', h],
              ['body', b],
            ]),
          ),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(header, hostile).map(
        ([h, b]) =>
          new Frame(
            'json',
            new Obj([
              ['header', h],
              ['body', b],
            ]),
          ),
      ),
    },
    { weight: 1, arbitrary: header.map((h) => new Frame('json', new Obj([['header', h]]))) },
    {
      weight: 1,
      arbitrary: fc.tuple(hostile, header, body).map(
        ([x, h, b]) =>
          new Frame(
            'json',
            new Obj([
              ['header', x],
              ['body', b],
              ['header', h],
            ]),
          ),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...PROTO_KEYS), hostile, header, body).map(
        ([k, x, h, b]) =>
          new Frame(
            'json',
            new Obj([
              [k, x],
              ['header', h],
              ['body', b],
            ]),
          ),
      ),
    },
    { weight: 1, arbitrary: hostile.map((v) => new Frame('json', v)) },
    { weight: 1, arbitrary: notJson.map((t) => new Frame('text', null, t)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(shaped, fc.integer({ min: 1, max: 40 }))
        .map(([v, n]) => new Frame('truncated', v, String(n))),
    },
    { weight: 1, arbitrary: shaped.map((v) => new Frame('binary-json', v)) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => new Frame('binary', null, '', Buffer.from(a))),
    },
  );
}

/**
 * fast-check settings: a fixed seed per property (FUZZ_SEED changes them all; fast-check prints the seed
 * of a failure), runs scaled by FUZZ_RUNS_SCALE.
 */
export const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);
export function params(numRuns: number, name: string): fc.Parameters<unknown> {
  const scale = Number(process.env.FUZZ_RUNS_SCALE ?? 1);
  let seed = SEED | 0;
  // Each property its own stream of values (FNV-1a of its name), still reproducible.
  for (let i = 0; i < name.length; i++) seed = Math.imul(seed ^ name.charCodeAt(i), 16_777_619);
  return {
    seed,
    numRuns: Math.max(1, Math.round(numRuns * scale)),
    // Bounds shrinking against a server that keeps crashing (each failing try restarts it).
    interruptAfterTimeLimit: Number(process.env.FUZZ_PROPERTY_MS ?? 40_000),
  };
}
