/** @jest-environment node */
/**
 * Login tokens (v1 bounds, token04) and stream tokens (v2), including the ambiguities issue 7 lists:
 * v1 `expired` revived by moving nonce digits, `carol1`/`carol`, and stream `cam:<T>` vs `cam`.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerCode } from '../../../src/protocol/errors';
import { checkLoginToken, mintLoginToken, verifyLoginToken } from '../../../src/server/auth/loginToken';
import {
  devServerSecret,
  mayPublish,
  serverSecretOf,
  verifyRoomToken,
} from '../../../src/server/auth/roomToken';
import {
  checkStreamParams,
  mintStreamParams,
  streamTokenMessage,
} from '../../../src/server/auth/streamToken';
import { mintToken04, verifyToken04 } from '../../../src/server/auth/token04';
import { resolveConfig } from '../../../src/server/config';

const APPID = 1739272706;
const SIGN = '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20';
const SECRET = 'fa94dd0f974cf2e293728a526b028271'; // 32 ASCII characters
const NOW = 1_700_000_000_000; // ms
const NOW_S = NOW / 1000;
const DAY = 24 * 3600;

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
/** A v1 token written by hand, exactly as a business server would. */
function v1(idName: string, nonce: string, expired: number, appid = APPID): string {
  const hash = md5(`${appid}${SIGN.slice(0, 32)}${idName}${nonce}${expired}`);
  return Buffer.from(JSON.stringify({ ver: 1, hash, nonce, expired })).toString('base64');
}
const decodeV1 = (t: string) =>
  JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as { hash: string; nonce: string; expired: number };
const reencodeV1 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64');

describe('v1 login tokens: bounded lifetime, milliseconds tolerated', () => {
  const base = { appid: APPID, appSign: SIGN, idName: 'alice', now: NOW };

  test('revival by moving nonce digits into expired: same hash, refused by the lifetime bound', () => {
    // A token that expired 10 minutes ago, with a nonce ending in digits.
    const old = v1('alice', 'f00d4521', NOW_S - 600);
    expect(verifyLoginToken({ ...base, token: old })).toBe(ServerCode.TokenExpired);
    for (const moved of [1, 2]) {
      const t = decodeV1(old);
      const forged = {
        ...t,
        nonce: t.nonce.slice(0, -moved),
        expired: Number(t.nonce.slice(-moved) + String(t.expired)),
      };
      const token = reencodeV1(forged);
      // The hash still matches: without the bound this would be a valid token for centuries.
      expect(verifyLoginToken({ ...base, token, maxLifetimeS: 10 * 365 * DAY * 1000 })).toBe(0);
      expect(checkLoginToken({ ...base, token })).toEqual({
        code: ServerCode.TokenError,
        message: expect.stringMatching(/lifetime over/),
      });
    }
  });

  test('the bound: auth.maxTokenLifetimeS (default 7 days), inclusive', () => {
    expect(verifyLoginToken({ ...base, token: v1('alice', 'n', NOW_S + 7 * DAY) })).toBe(0);
    expect(verifyLoginToken({ ...base, token: v1('alice', 'n', NOW_S + 7 * DAY + 1) })).toBe(1008);
    const t = v1('alice', 'n', NOW_S + 2 * DAY);
    expect(verifyLoginToken({ ...base, token: t, maxLifetimeS: DAY })).toBe(1008);
    expect(verifyLoginToken({ ...base, token: t, maxLifetimeS: 3 * DAY })).toBe(0);
  });

  test('expired in milliseconds (a Java sample): normalised for the checks, hashed as written', () => {
    const ms = NOW + 3600_000;
    const token = v1('alice', 'n', ms);
    expect(decodeV1(token).expired).toBe(ms);
    expect(verifyLoginToken({ ...base, token })).toBe(0);
    expect(verifyLoginToken({ ...base, token, now: ms + 1000 })).toBe(ServerCode.TokenExpired);
    expect(verifyLoginToken({ ...base, token: v1('alice', 'n', NOW + 8 * DAY * 1000) })).toBe(1008);
    // Hashed over the value as written: the same instant in seconds is another hash.
    const asSeconds = reencodeV1({ ...decodeV1(token), expired: ms / 1000 });
    expect(verifyLoginToken({ ...base, token: asSeconds })).toBe(1008);
  });

  test('odd expired values are refused, not coerced', () => {
    for (const expired of [0, -5, 1.5, 1e300, '1700003600'])
      expect(
        verifyLoginToken({ ...base, token: reencodeV1({ ...decodeV1(v1('alice', 'n', 1)), expired }) }),
      ).toBe(1008);
  });
});

describe('the carol1 / carol ambiguity of v1', () => {
  const apps = (allowV1Token: boolean) =>
    resolveConfig({ apps: [{ appid: APPID, appSign: SIGN, serverSecret: SECRET, allowV1Token }] });
  const forCarol1 = mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'carol1', nonce: 'abc', now: NOW });
  // The same hash read as idName "carol" with nonce "1abc": no separator tells them apart.
  const asCarol = reencodeV1({ ...decodeV1(forCarol1), nonce: '1abc' });

  test('inherent to v1: with v1 on, the forged token logs in as carol', () => {
    const r = verifyRoomToken({
      config: apps(true),
      appid: APPID,
      idName: 'carol',
      roomId: 'r',
      token: asCarol,
      now: NOW,
    });
    expect(r.code).toBe(0);
  });

  test('refused when the app sets allowV1Token: false; a 04 token for carol1 never works for carol', () => {
    const config = apps(false);
    for (const [idName, token] of [
      ['carol', asCarol],
      ['carol1', forCarol1],
    ] as const) {
      expect(verifyRoomToken({ config, appid: APPID, idName, roomId: 'r', token, now: NOW })).toEqual({
        code: ServerCode.TokenError,
        message: `v1 login tokens are disabled for app ${APPID} (allowV1Token: false): use a 04 token`,
      });
    }
    const t04 = mintToken04({ appid: APPID, idName: 'carol1', serverSecret: SECRET, now: NOW });
    expect(
      verifyRoomToken({ config, appid: APPID, idName: 'carol1', roomId: 'r', token: t04, now: NOW }).code,
    ).toBe(0);
    expect(
      verifyRoomToken({ config, appid: APPID, idName: 'carol', roomId: 'r', token: t04, now: NOW }),
    ).toEqual({
      code: ServerCode.TokenError,
      message: '04 token is for another user_id',
    });
  });
});

/** The 04 binary layout, read independently of the code under test (the tests' own reading of the spec). */
function unpack04(token: string) {
  expect(token.startsWith('04')).toBe(true);
  const b = Buffer.from(token.slice(2), 'base64');
  const expire = Number(b.readBigInt64BE(0));
  const nonceLen = b.readUInt16BE(8);
  const nonce = b.subarray(10, 10 + nonceLen);
  const cipherLen = b.readUInt16BE(10 + nonceLen);
  const sealed = b.subarray(12 + nonceLen, 12 + nonceLen + cipherLen);
  const mode = b[12 + nonceLen + cipherLen];
  expect(b.length).toBe(12 + nonceLen + cipherLen + 1);
  return { b, expire, nonceLen, nonce, cipherLen, sealed, mode };
}

/** Seals a plaintext into a 04 token by the format, as a vendor library would (tests' own writer). */
function seal04(plain: object | string, opts: { expire: number; secret?: string; mode?: number }): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', Buffer.from(opts.secret ?? SECRET, 'utf8'), iv);
  const text = typeof plain === 'string' ? plain : JSON.stringify(plain);
  const sealed = Buffer.concat([c.update(text, 'utf8'), c.final(), c.getAuthTag()]);
  const head = Buffer.alloc(10);
  head.writeBigInt64BE(BigInt(opts.expire), 0);
  head.writeUInt16BE(12, 8);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(sealed.length, 0);
  return '04' + Buffer.concat([head, iv, len, sealed, Buffer.from([opts.mode ?? 1])]).toString('base64');
}

describe('token04', () => {
  const v = { appid: APPID, idName: 'alice', roomId: 'r1', serverSecret: SECRET, now: NOW };
  const claims = (over: Record<string, unknown> = {}) => ({
    app_id: APPID,
    user_id: 'alice',
    nonce: 12345,
    ctime: NOW_S,
    expire: NOW_S + 3600,
    payload: '',
    ...over,
  });

  test('round trip; the layout is the documented one (expire | 12-byte nonce | GCM ciphertext+tag | mode 1)', () => {
    const token = mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, now: NOW, ttlS: 600 });
    const u = unpack04(token);
    expect(u.expire).toBe(NOW_S + 600);
    expect(u.nonceLen).toBe(12);
    expect(u.mode).toBe(1);
    const d = createDecipheriv('aes-256-gcm', Buffer.from(SECRET), u.nonce);
    d.setAuthTag(u.sealed.subarray(-16));
    const plain = JSON.parse(
      Buffer.concat([d.update(u.sealed.subarray(0, -16)), d.final()]).toString('utf8'),
    );
    expect(plain).toEqual({
      app_id: APPID,
      user_id: 'alice',
      nonce: expect.any(Number),
      ctime: NOW_S,
      expire: NOW_S + 600,
      payload: '',
    });
    expect(verifyToken04({ ...v, token })).toEqual({ code: 0, privileges: undefined });
  });

  test('a token sealed by the format alone (as a vendor library mints it) verifies', () => {
    const payload = JSON.stringify({ room_id: 'r1', privilege: { '1': 1, '2': 0 }, stream_id_list: null });
    const token = seal04(claims({ payload }), { expire: NOW_S + 3600 });
    expect(verifyToken04({ ...v, token })).toEqual({
      code: 0,
      privileges: { login: true, publish: false, streamIds: null, roomId: 'r1' },
    });
  });

  test('tampering: ciphertext, tag, header expire, nonce, mode, another secret', () => {
    const token = mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, now: NOW });
    const u = unpack04(token);
    const flip = (at: number) => {
      const b = Buffer.from(u.b);
      b[at]! ^= 1;
      return '04' + b.toString('base64');
    };
    const cipherAt = 12 + u.nonceLen;
    const auth = /does not authenticate/;
    expect(verifyToken04({ ...v, token: flip(cipherAt) }).message).toMatch(auth); // first ciphertext byte
    expect(verifyToken04({ ...v, token: flip(cipherAt + u.cipherLen - 1) }).message).toMatch(auth); // tag
    expect(verifyToken04({ ...v, token: flip(10) }).message).toMatch(auth); // nonce
    expect(verifyToken04({ ...v, token: flip(7) })).toEqual({
      code: 1008,
      message: '04 token expire does not match its header',
    });
    expect(verifyToken04({ ...v, token: flip(u.b.length - 1) }).message).toMatch(/mode 0/); // 1 -> 0
    expect(verifyToken04({ ...v, serverSecret: 'x'.repeat(32), token }).message).toMatch(auth);
    const moved = mintToken04({
      appid: APPID,
      idName: 'alice',
      serverSecret: SECRET,
      now: NOW,
      outerExpire: NOW_S + 5 * DAY,
    });
    expect(verifyToken04({ ...v, token: moved }).message).toBe('04 token expire does not match its header');
  });

  test('app_id and user_id must match the login; types are strict', () => {
    const token = mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, now: NOW });
    expect(verifyToken04({ ...v, appid: APPID + 1, token })).toEqual({
      code: 1008,
      message: '04 token is for another app_id',
    });
    expect(verifyToken04({ ...v, idName: 'alice ', token })).toEqual({
      code: 1008,
      message: '04 token is for another user_id',
    });
    const e = NOW_S + 3600;
    expect(
      verifyToken04({ ...v, token: seal04(claims({ app_id: String(APPID) }), { expire: e }) }).code,
    ).toBe(1008);
    expect(verifyToken04({ ...v, token: seal04(claims({ expire: e + 0.5 }), { expire: e }) }).code).toBe(
      1008,
    );
    expect(verifyToken04({ ...v, token: seal04('not json', { expire: e }) }).message).toMatch(/not JSON/);
    expect(verifyToken04({ ...v, token: seal04([1], { expire: e }) }).message).toMatch(/JSON object/);
  });

  /** The vendor's AES-CBC form: a 16-character IV, PKCS#7 padding, no tag; mode byte 0, or none (early). */
  function cbc04(plain: object, expire: number, mode: number | null): string {
    const iv = Buffer.from('0123456789abcdef');
    const c = createCipheriv('aes-256-cbc', Buffer.from(SECRET, 'utf8'), iv);
    const sealed = Buffer.concat([c.update(JSON.stringify(plain), 'utf8'), c.final()]);
    const head = Buffer.alloc(10);
    head.writeBigInt64BE(BigInt(expire), 0);
    head.writeUInt16BE(iv.length, 8);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(sealed.length, 0);
    const tail = mode === null ? [] : [Buffer.from([mode])];
    return '04' + Buffer.concat([head, iv, len, sealed, ...tail]).toString('base64');
  }

  test('mode 0 (the deprecated, unauthenticated CBC variant) is refused with a clear message; others unknown', () => {
    const e = NOW_S + 3600;
    expect(verifyToken04({ ...v, token: cbc04(claims(), e, 0) })).toEqual({
      code: 1008,
      message:
        '04 token mode 0 (AES-CBC, deprecated and unauthenticated) is refused: mint GCM (mode 1) tokens',
    });
    expect(verifyToken04({ ...v, token: cbc04(claims(), e, null) })).toEqual({
      code: 1008,
      message: '04 token without a mode byte (the early AES-CBC form) is refused: mint GCM (mode 1) tokens',
    });
    expect(verifyToken04({ ...v, token: seal04(claims(), { expire: e, mode: 0 }) })).toEqual({
      code: 1008,
      message: expect.stringMatching(/mode 0 \(AES-CBC, deprecated and unauthenticated\) is refused/),
    });
    expect(verifyToken04({ ...v, token: seal04(claims(), { expire: e, mode: 2 }) }).message).toMatch(
      /mode 2 is unknown/,
    );
  });

  test('expiry and the lifetime bound', () => {
    const t = (ttlS: number) =>
      mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, now: NOW, ttlS });
    expect(verifyToken04({ ...v, token: t(10), now: NOW + 11_000 })).toEqual({
      code: 1010,
      message: 'token expired',
    });
    expect(verifyToken04({ ...v, token: t(7 * DAY) }).code).toBe(0);
    expect(verifyToken04({ ...v, token: t(7 * DAY + 1) }).message).toMatch(/lifetime over/);
    expect(verifyToken04({ ...v, token: t(2 * DAY), maxLifetimeS: DAY }).code).toBe(1008);
  });

  test('payload: room, login privilege, stream list; malformed payloads are 1008', () => {
    const mint = (o: Partial<Parameters<typeof mintToken04>[0]>) =>
      mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, now: NOW, ...o });
    expect(verifyToken04({ ...v, token: mint({ roomId: 'r1' }) }).privileges).toEqual({
      login: true,
      publish: true,
      streamIds: null,
      roomId: 'r1',
    });
    expect(verifyToken04({ ...v, token: mint({ roomId: 'r2' }) })).toEqual({
      code: ServerCode.NotAllowed,
      message: 'the login token is for another room',
    });
    // A media LoginReq without roomid does not say a room: no room check there.
    expect(verifyToken04({ ...v, roomId: null, token: mint({ roomId: 'r2' }) }).code).toBe(0);
    expect(verifyToken04({ ...v, token: mint({ privileges: { login: 0 } }) })).toEqual({
      code: ServerCode.NotAllowed,
      message: expect.stringMatching(/does not allow login/),
    });
    expect(verifyToken04({ ...v, token: mint({ streamIds: ['a', 'b'] }) }).privileges?.streamIds).toEqual([
      'a',
      'b',
    ]);
    // room_id '' = any room.
    expect(
      verifyToken04({ ...v, token: mint({ payload: '{"room_id":"","privilege":{"1":1,"2":1}}' }) }).code,
    ).toBe(0);
    for (const payload of [
      'x',
      '[]',
      '{"room_id":5}',
      '{"privilege":[1]}',
      '{"privilege":{"1":2}}',
      '{"privilege":{"2":"1"}}',
      '{"stream_id_list":"a"}',
      '{"stream_id_list":[1]}',
    ])
      expect(verifyToken04({ ...v, token: mint({ payload }) })).toEqual({
        code: 1008,
        message: expect.stringMatching(/payload/),
      });
    const e = NOW_S + 3600;
    expect(
      verifyToken04({ ...v, token: seal04(claims({ payload: { room_id: 'r1' } }), { expire: e }) }).code,
    ).toBe(1008);
  });

  test('bounded parsing: length, base64, every inner length checked against the buffer; never throws', () => {
    const good = mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, now: NOW });
    const u = unpack04(good);
    const withBytes = (b: Buffer) => '04' + b.toString('base64');
    const cases: [string, RegExp][] = [
      ['04' + 'A'.repeat(4096), /at most 4096/],
      ['04!!!!', /not base64/],
      ['04' + good.slice(2, -1), /not base64/], // length not a multiple of 4
      ['04 ' + good.slice(2), /not base64/],
      ['04AAAA', /too short/],
      [withBytes(u.b.subarray(0, u.b.length - 1)), /without a mode byte/], // mode byte cut
      [withBytes(Buffer.concat([u.b, Buffer.from([1])])), /lengths do not match/],
    ];
    // A 13-byte nonce, every length consistent: refused for the nonce, not read past.
    const nonce13 = Buffer.concat([u.b.subarray(0, 10), Buffer.alloc(1), u.b.subarray(10)]);
    nonce13.writeUInt16BE(13, 8);
    cases.push([withBytes(nonce13), /nonce must be 12/]);
    const hugeNonce = Buffer.from(u.b);
    hugeNonce.writeUInt16BE(0xffff, 8);
    cases.push([withBytes(hugeNonce), /lengths do not match/]);
    const bigCipher = Buffer.from(u.b);
    bigCipher.writeUInt16BE(0xffff, 10 + 12);
    cases.push([withBytes(bigCipher), /lengths do not match/]);
    const tinyCipher = Buffer.from(u.b);
    tinyCipher.writeUInt16BE(3, 10 + 12);
    cases.push([withBytes(tinyCipher), /lengths do not match/]);
    for (const [token, why] of cases)
      expect(verifyToken04({ ...v, token })).toEqual({ code: 1008, message: expect.stringMatching(why) });
    for (let i = 0; i < 500; i++) {
      const junk = '04' + randomBytes(1 + (i % 120)).toString('base64');
      expect(verifyToken04({ ...v, token: junk }).code).toBe(1008);
    }
  });

  test('a non-ASCII 32-character secret is not 32 bytes: refused, not thrown', () => {
    const token = mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, now: NOW });
    expect(verifyToken04({ ...v, serverSecret: 'é'.repeat(32), token }).message).toMatch(/32 ASCII/);
  });
});

describe('verifyRoomToken dispatch and mayPublish', () => {
  const prod = resolveConfig({
    apps: [
      { appid: APPID, appSign: SIGN, serverSecret: SECRET },
      { appid: 7, appSign: SIGN },
    ],
  });

  test('"04…" goes to token04, anything else to v1; unknown appid and missing secret refused', () => {
    const t04 = mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET });
    const tv1 = mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'alice' });
    expect(tv1.startsWith('e')).toBe(true);
    const r = (appid: number, token: unknown) =>
      verifyRoomToken({ config: prod, appid, idName: 'alice', roomId: 'r', token });
    expect(r(APPID, t04).code).toBe(0);
    expect(r(APPID, tv1).code).toBe(0);
    expect(r(99, tv1)).toEqual({ code: 1008, message: 'unknown appid' });
    expect(r(7, mintToken04({ appid: 7, idName: 'alice', serverSecret: SECRET }))).toEqual({
      code: 1008,
      message: 'app 7 has no serverSecret configured: 04 tokens are not accepted',
    });
    for (const bad of ['', undefined, 5, {}]) expect(r(APPID, bad).code).toBe(1008);
  });

  test('dev mode: v1 with devAppSign, 04 with the secret derived from it (documented formula)', () => {
    const dev = resolveConfig({ devAppSign: SIGN });
    const secret = createHash('sha256')
      .update(`zegoclient-shim dev serverSecret:${SIGN}`)
      .digest('hex')
      .slice(0, 32);
    expect(devServerSecret(SIGN)).toBe(secret);
    expect(serverSecretOf(dev, 12345)).toBe(secret);
    const r = (token: string) =>
      verifyRoomToken({ config: dev, appid: 12345, idName: 'bob', roomId: 'r', token });
    expect(r(mintToken04({ appid: 12345, idName: 'bob', serverSecret: secret })).code).toBe(0);
    expect(r(mintLoginToken({ appid: 12345, appSign: SIGN, idName: 'bob' })).code).toBe(0);
    expect(r(mintToken04({ appid: 12345, idName: 'bob', serverSecret: SECRET })).code).toBe(1008);
  });

  test('the lifetime bound comes from auth.maxTokenLifetimeS', () => {
    const short = resolveConfig({
      apps: [{ appid: APPID, appSign: SIGN, serverSecret: SECRET }],
      auth: { maxTokenLifetimeS: 600 },
    });
    const r = (token: string) =>
      verifyRoomToken({ config: short, appid: APPID, idName: 'a', roomId: 'r', token }).code;
    expect(r(mintToken04({ appid: APPID, idName: 'a', serverSecret: SECRET, ttlS: 601 }))).toBe(1008);
    expect(r(mintToken04({ appid: APPID, idName: 'a', serverSecret: SECRET, ttlS: 599 }))).toBe(0);
    expect(r(mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'a', ttlS: 601 }))).toBe(1008);
  });

  test('mayPublish: no privileges = anything; publish 0 = nothing; a stream list = those only', () => {
    const p = (publish: boolean, streamIds: string[] | null) => ({
      privileges: { login: true, publish, streamIds, roomId: null },
    });
    expect(mayPublish({}, 's')).toBe(true);
    expect(mayPublish(p(true, null), 's')).toBe(true);
    expect(mayPublish(p(false, null), 's')).toBe(false);
    expect(mayPublish(p(true, ['a', 'b']), 'b')).toBe(true);
    expect(mayPublish(p(true, ['a', 'b']), 'c')).toBe(false);
    expect(mayPublish(p(false, ['a']), 'a')).toBe(false);
  });
});

describe('stream tokens (v2)', () => {
  const o = { appid: APPID, appSign: SIGN, now: NOW };

  test('round trip; bound to appid, stream id, expiry; version carried', () => {
    const p = mintStreamParams({ ...o, streamId: 'cam', ttlS: 60 });
    expect(p).toMatch(/^zg_ver=2&zg_expired=1700000060&zg_nonce=[0-9a-f]{32}&zg_token=[0-9a-f]{64}$/);
    expect(checkStreamParams({ ...o, streamId: 'cam', params: p })).toBeNull();
    expect(checkStreamParams({ ...o, streamId: 'cam', params: `?${p}` })).toBeNull();
    const hex = new URLSearchParams(p).get('zg_token')!;
    expect(
      checkStreamParams({ ...o, streamId: 'cam', params: p.replace(hex, hex.toUpperCase()) }),
    ).toBeNull();
    expect(checkStreamParams({ ...o, streamId: 'cam2', params: p })).toBe('zg_token does not match');
    expect(checkStreamParams({ ...o, appid: 1, streamId: 'cam', params: p })).toBe('zg_token does not match');
    expect(checkStreamParams({ ...o, streamId: 'cam', params: p, now: NOW + 61_000 })).toBe(
      'streamParams expired',
    );
  });

  test('cam:<T> vs cam: the old unversioned forgery is refused, and v2 messages cannot collide', () => {
    const T = NOW_S + 500;
    const expired = NOW_S + 3600;
    const nonce = 'n0nce123';
    // The old form: hex(HMAC(AppSign, "appid:stream:expired:nonce")), for stream `cam:<T>`...
    const oldToken = createHmac('sha256', Buffer.from(SIGN, 'hex'))
      .update(`${APPID}:cam:${T}:${expired}:${nonce}`)
      .digest('hex');
    // ...re-read as stream `cam`, zg_expired=<T>, nonce "<expired>:<nonce>": the same HMAC input.
    const forged = `zg_expired=${T}&zg_nonce=${expired}:${nonce}&zg_token=${oldToken}`;
    expect(checkStreamParams({ ...o, streamId: 'cam', params: forged })).toMatch(
      /zg_ver=2 \(the unversioned form/,
    );
    expect(checkStreamParams({ ...o, streamId: 'cam', params: `zg_ver=2&${forged}` })).toMatch(
      /zg_nonce must be/,
    );
    // v2: every field carries its byte length, so shifting text between fields changes the message.
    expect(streamTokenMessage(APPID, `cam:${T}`, expired, nonce)).not.toBe(
      streamTokenMessage(APPID, 'cam', T, `${expired}${nonce}`),
    );
    const v2 = mintStreamParams({ ...o, streamId: `cam${T}`, nonce });
    const q = new URLSearchParams(v2);
    const shifted = `zg_ver=2&zg_expired=${T}&zg_nonce=${q.get('zg_expired')}${nonce}&zg_token=${q.get('zg_token')}`;
    expect(checkStreamParams({ ...o, streamId: 'cam', params: shifted })).toBe('zg_token does not match');
    expect(checkStreamParams({ ...o, streamId: `cam${T}`, params: v2 })).toBeNull();
  });

  test('strict parameters: version, duplicates, nonce charset and length, expired digits, lifetime bound', () => {
    const p = mintStreamParams({ ...o, streamId: 's' });
    const q = new URLSearchParams(p);
    const tok = q.get('zg_token')!;
    const e = q.get('zg_expired')!;
    const n = q.get('zg_nonce')!;
    const check = (params: string, extra: object = {}) =>
      checkStreamParams({ ...o, streamId: 's', params, ...extra });
    expect(check(`zg_ver=1&zg_expired=${e}&zg_nonce=${n}&zg_token=${tok}`)).toBe(
      'streamParams zg_ver must be 2',
    );
    expect(check(`${p}&zg_nonce=${n}`)).toMatch(/once/);
    expect(check(`${p}&zg_ver=2`)).toMatch(/once/);
    expect(check('zg_expired=1')).toMatch(/must carry/);
    for (const bad of ['short', 'x'.repeat(65), 'has:colon1', 'sp ace123', 'ünïcode12'])
      expect(check(`zg_ver=2&zg_expired=${e}&zg_nonce=${encodeURIComponent(bad)}&zg_token=${tok}`)).toMatch(
        /zg_nonce must be/,
      );
    for (const bad of ['0' + e, `${e}.0`, '1e9', '-1', ' 1'])
      expect(check(`zg_ver=2&zg_expired=${encodeURIComponent(bad)}&zg_nonce=${n}&zg_token=${tok}`)).toBe(
        'zg_expired must be Unix seconds',
      );
    expect(check(`zg_ver=2&zg_expired=${e}&zg_nonce=${n}&zg_token=${tok.slice(1)}`)).toMatch(/64 hex/);
    expect(check(p + '&x=' + 'y'.repeat(2048))).toMatch(/at most 2048/);
    const long = mintStreamParams({ ...o, streamId: 's', ttlS: 8 * DAY });
    expect(check(long)).toMatch(/lifetime over/);
    expect(check(long, { maxLifetimeS: 9 * DAY })).toBeNull();
    expect(() => mintStreamParams({ ...o, streamId: 's', nonce: 'a:b' })).toThrow(/nonce/);
  });

  test('the worked example of docs/protocol.md is what the server computes', () => {
    const appSign =
      '0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f,0x10,0x11,0x12,0x13,0x14,0x15,0x16,0x17,0x18,0x19,0x1a,0x1b,0x1c,0x1d,0x1e,0x1f,0x20';
    const msg = streamTokenMessage(1739272706, 'cam:1', 1700003600, 'a1b2c3d4e5f6');
    expect(msg).toBe('zgs2:10:1739272706,5:cam:1,10:1700003600,12:a1b2c3d4e5f6,');
    const params = mintStreamParams({
      appid: 1739272706,
      appSign,
      streamId: 'cam:1',
      now: NOW,
      ttlS: 3600,
      nonce: 'a1b2c3d4e5f6',
    });
    const doc = readFileSync(join(__dirname, '../../../docs/protocol.md'), 'utf8');
    expect(doc).toContain(msg);
    expect(doc).toContain(params);
    expect(checkStreamParams({ appid: 1739272706, appSign, streamId: 'cam:1', params, now: NOW })).toBeNull();
  });
});
