/** @jest-environment node */
import { createHash } from 'node:crypto';
import { mintLoginToken, parseAppSign, verifyLoginToken } from '../../../src/server/auth/loginToken';

const HEX = '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20';
const CLIST = Array.from({ length: 32 }, (_, i) => `0x${(i + 1).toString(16).padStart(2, '0')}`).join(',');

describe('parseAppSign', () => {
  test('accepts the C-style list and 64 hex characters alike', () => {
    expect(parseAppSign(CLIST)).toBe(HEX);
    expect(parseAppSign(HEX.toUpperCase())).toBe(HEX);
    expect(parseAppSign(CLIST.replace(/,/g, ', '))).toBe(HEX);
  });
  test.each(['', 'xyz', '0x01,0x02', HEX.slice(2), `${HEX}00`])('rejects %j with a clear message', (bad) => {
    expect(() => parseAppSign(bad)).toThrow(/32 bytes/);
  });
});

describe('v1 login token', () => {
  const base = { appid: 1739272706, appSign: CLIST, idName: 'alice' };
  const now = 1_700_000_000_000;

  test('hash is md5(appid + appSign32 + idName + nonce + expired), as business servers compute it', () => {
    const token = mintLoginToken({ ...base, nonce: 'abc', now, ttlS: 60 });
    const payload = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    const expired = 1_700_000_060;
    expect(payload).toEqual({
      ver: 1,
      nonce: 'abc',
      expired,
      hash: createHash('md5')
        .update(`1739272706${HEX.slice(0, 32)}aliceabc${expired}`)
        .digest('hex'),
    });
  });

  test('a minted token verifies; another user, app or secret does not', () => {
    const token = mintLoginToken({ ...base, now });
    expect(verifyLoginToken({ ...base, token, now })).toBe(0);
    expect(verifyLoginToken({ ...base, idName: 'bob', token, now })).toBe(1008);
    expect(verifyLoginToken({ ...base, appid: 1, token, now })).toBe(1008);
    expect(verifyLoginToken({ ...base, appSign: 'ff'.repeat(32), token, now })).toBe(1008);
  });

  test('an expired token is 1010, garbage is 1008', () => {
    const token = mintLoginToken({ ...base, now, ttlS: 10 });
    expect(verifyLoginToken({ ...base, token, now: now + 11_000 })).toBe(1010);
    for (const bad of [
      '',
      'not base64 !!',
      Buffer.from('[1]').toString('base64'),
      Buffer.from('{"ver":2}').toString('base64'),
      'x'.repeat(5000),
    ]) {
      expect(verifyLoginToken({ ...base, token: bad, now })).toBe(1008);
    }
  });
});
