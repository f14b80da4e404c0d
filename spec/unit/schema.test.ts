/** @jest-environment node */
/** The schema kit (src/protocol/schema.ts) and the room/media schemas derived from it. */
import { MEDIA_REQUESTS, MEDIA_REQUEST_SCHEMAS } from '../../src/protocol/mediaSchema';
import { ROOM_CMDS, ROOM_REQUEST_SCHEMAS } from '../../src/protocol/roomSchema';
import { checkBody, s, type Fault, type Infer } from '../../src/protocol/schema';
import { validateBody, validateMediaBody } from '../../src/protocol/validate';

const deep = (n: number): unknown => JSON.parse('['.repeat(n) + '1' + ']'.repeat(n));

/** The fault's message, with " (too large)" when it says the value is only over its bound. */
const said = (f: Fault | null) => (f === null ? null : f.message + (f.tooLarge ? ' (too large)' : ''));

test('rules refuse by type before anything is coerced: deep nesting, prototype keys, wrong types', () => {
  const body = s.object({ a: s.str(8), n: s.int(0, 9).opt(), ids: s.array(s.str(4), 3) });
  const check = (v: unknown) => said(checkBody(body, v));
  expect(check({ a: 'x', ids: [] })).toBeNull();
  expect(check({ a: deep(5000), ids: [] })).toBe('a must be a string of at most 8 bytes');
  expect(check({ a: 'x', ids: [deep(5000)] })).toBe('ids[0] must be a string of at most 4 bytes');
  expect(check({ a: 'x', ids: ['a', 'b', 'c', 'd'] })).toBe('ids has over 3 items (too large)');
  expect(check({ a: 'x', ids: {} })).toMatch(/^ids must be an array of 0 to 3 items$/);
  expect(check({ a: 'x', ids: [], n: '1' })).toBe('n must be an integer from 0 to 9');
  expect(check([])).toBe('body must be an object');
  expect(check(null)).toBe('body must be an object');
  // A field present only on the prototype is absent: nothing is read through __proto__.
  const proto = JSON.parse('{"__proto__": {"a": "x", "ids": []}}') as unknown;
  expect(check(proto)).toBe('a must be a string of at most 8 bytes');
  // UTF-8 bytes, not UTF-16 units; a string only too long says so (a page can send one).
  expect(check({ a: '中文中', ids: [] })).toBe('a is over 8 bytes (too large)');
  expect(check({ a: 'x'.repeat(9), ids: [] })).toBe('a is over 8 bytes (too large)');
  expect(said(s.maybe(s.str(1)).check(null, 'x'))).toBeNull();
  expect(said(s.strOrInt(3).check(12345, 'x'))).toBeNull();
  expect(said(s.strOrInt(3).check(1.5, 'x'))).toMatch(/x must be a string/);
  expect(said(s.strOrInt(3).check('abcd', 'x'))).toBe('x is over 3 bytes (too large)');
  expect(said(s.oneOf([1, 2] as const).check('1', 'r'))).toBe('r must be one of 1, 2');
});

test('inferred types follow the schemas (compile-time check, asserted at run time too)', () => {
  const login: Infer<(typeof ROOM_REQUEST_SCHEMAS)['login']> = {
    id_name: 'a',
    nick_name: 'A',
    role: 1,
    token: 't',
    version: '1.12.5',
    room_name: 'r',
  };
  expect(validateBody('login', login)).toBeNull();
  expect(said(validateBody('login', { ...login, role: 3 }))).toBe('role must be one of 1, 2');
});

test('every command has a schema; the command lists are derived from them', () => {
  expect(ROOM_CMDS).toEqual(Object.keys(ROOM_REQUEST_SCHEMAS));
  expect(MEDIA_REQUESTS).toEqual(Object.keys(MEDIA_REQUEST_SCHEMAS));
  expect(
    validateMediaBody('CandidateInfoReq', { infos: [{ candidate: 'c', sdpMid: null, sdpMLineIndex: null }] }),
  ).toBeNull();
  expect(said(validateMediaBody('MediaDescReq', { type: 0, sdp: 'x=0' }))).toBe('sdp must start with v=0');
  expect(said(validateBody('bigim_chat', { msgs: [] }))).toBe('msgs must be an array of 1 to 20 items');
});
