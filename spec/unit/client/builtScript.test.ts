/**
 * The built global script (dist/ZegoClient.js, what old pages load; `npm test` builds it before the suites):
 *  - stays within the contract's budget, 40 KiB min+gzip (gzip -9);
 *  - still carries every name of the API: each method and `onXxx` handler of docs/api-status.md that is not
 *    `planned`, and exactly the statics, prototype methods and instance properties of the TypeScript class,
 *    so a minifier setting that renames or drops one fails here, not in a page.
 * It reads dist as it is: run `npm run build` after changing the client.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ZegoClient as SourceClient } from '../../../src/client/compat/ZegoClient';

const ROOT = join(__dirname, '..', '..', '..');
const BUILT = join(ROOT, 'dist', 'ZegoClient.js');
/** The contract: 40 KiB min+gzip. */
const BUDGET_BYTES = 40 * 1024;

function builtSource(): string {
  if (!existsSync(BUILT)) {
    throw new Error(`${BUILT} is missing: build it first (npm run build; npm test builds before the suites)`);
  }
  return readFileSync(BUILT, 'utf8');
}

type AnyClass = (new () => Record<string, unknown>) & Record<string, unknown>;

let loaded: AnyClass | undefined;
/** The built script run as a page runs it (in this jsdom window), and the ZegoClient it defines. */
function builtClient(): AnyClass {
  if (!loaded) {
    const w = globalThis as unknown as { ZegoClient?: AnyClass };
    delete w.ZegoClient;
    new Function(builtSource())();
    if (typeof w.ZegoClient !== 'function') throw new Error('dist/ZegoClient.js did not define ZegoClient');
    loaded = w.ZegoClient;
  }
  return loaded;
}

/** Names of the API rows of docs/api-status.md (Methods and Callbacks tables) whose status is not planned. */
function contractNames(): { statics: string[]; methods: string[]; props: string[]; handlers: string[] } {
  const doc = readFileSync(join(ROOT, 'docs', 'api-status.md'), 'utf8');
  const out = {
    statics: [] as string[],
    methods: [] as string[],
    props: [] as string[],
    handlers: [] as string[],
  };
  let table: 'methods' | 'callbacks' | null = null;
  for (const line of doc.split('\n')) {
    if (line.startsWith('## '))
      table = line === '## Methods' ? 'methods' : line === '## Callbacks' ? 'callbacks' : null;
    if (!table || !line.startsWith('| `')) continue;
    const [api = '', status = ''] = line
      .split('|')
      .slice(1, 3)
      .map((c) => c.trim());
    if (status.startsWith('planned')) continue;
    const spans = [...api.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    // The legacy navigator.getUserMedia row is about the browser's navigator, not ZegoClient.
    if (spans[0]!.startsWith('navigator.')) continue;
    // `ZegoClient.pauseRecord()`, `resumeRecord()`, `stopRecord()`: one row of statics.
    const isStatic = spans[0]!.startsWith('ZegoClient.');
    for (const span of spans) {
      const m = /^(zg\.)?(?:ZegoClient\.)?([A-Za-z]\w*)/.exec(span);
      if (!m) throw new Error(`api-status.md: cannot read a name in ${span}`);
      const name = m[2]!;
      if (table === 'callbacks') out.handlers.push(name);
      else if (m[1]) out.props.push(name);
      else (isStatic ? out.statics : out.methods).push(name);
    }
  }
  return out;
}

/** What a class exposes: statics, prototype members, own properties of a new instance. */
function surface(cls: AnyClass) {
  const zg = new cls();
  const names = {
    statics: Object.getOwnPropertyNames(cls)
      .filter((n) => !['length', 'name', 'prototype'].includes(n))
      .sort(),
    prototype: Object.getOwnPropertyNames(cls.prototype).sort(),
    instance: Object.getOwnPropertyNames(zg).sort(),
  };
  (zg.release as () => void)();
  return names;
}

test('dist/ZegoClient.js is within 40 KiB min+gzip (gzip -9)', () => {
  const gz = gzipSync(builtSource(), { level: 9 }).length;
  expect(gz).toBeLessThanOrEqual(BUDGET_BYTES);
});

test('dist/jZego-rtc.js (the legacy file name) is the same script', () => {
  const legacy = join(ROOT, 'dist', 'jZego-rtc.js');
  expect(existsSync(legacy)).toBe(true);
  // Compared as a boolean: a failing toBe would print both 130 KB scripts.
  expect(readFileSync(legacy, 'utf8') === builtSource()).toBe(true);
});

describe('every name of the API is in the built script', () => {
  const contract = contractNames();
  // api-status.md's enumDevices row: "static and instance".
  contract.statics.push('enumDevices');

  test('the contract read from docs/api-status.md is complete (the parser found the tables)', () => {
    expect(contract.statics.length).toBeGreaterThanOrEqual(14);
    expect(contract.methods.length).toBeGreaterThanOrEqual(50);
    expect(contract.handlers.length).toBeGreaterThanOrEqual(29);
    expect(contract.props).toEqual(['stateCenter']);
  });

  test('statics and methods are functions; stateCenter is an object', () => {
    const Z = builtClient();
    const zg = new Z();
    const missing = [
      ...contract.statics.filter((n) => typeof Z[n] !== 'function').map((n) => `ZegoClient.${n}`),
      ...contract.methods.filter((n) => typeof zg[n] !== 'function'),
      ...contract.props.filter((n) => typeof zg[n] !== 'object' || zg[n] === null),
    ];
    (zg.release as () => void)();
    expect(missing).toEqual([]);
  });

  test('onXxx handlers are own writable properties, null until the page sets them', () => {
    const Z = builtClient();
    const zg = new Z();
    const fn = () => undefined;
    const wrong = contract.handlers.filter((n) => {
      if (!Object.prototype.hasOwnProperty.call(zg, n) || zg[n] !== null) return true;
      zg[n] = fn;
      return zg[n] !== fn;
    });
    (zg.release as () => void)();
    expect(wrong).toEqual([]);
  });

  test('the built class has exactly the statics, methods and properties of the TypeScript class', () => {
    expect(surface(builtClient())).toEqual(surface(SourceClient as unknown as AnyClass));
  });
});
