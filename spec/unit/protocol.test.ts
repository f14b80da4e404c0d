/** @jest-environment node */
import { Buffer } from 'node:buffer';
import {
  utf8Length,
  serverErrorMessage,
  ServerCode,
  SERVER_CODE_MESSAGES,
  NO_RETRY_LOGIN_CODES,
} from '../../src/protocol';
import { ROOM_CMDS } from '../../src/protocol/roomSchema';

describe('utf8Length', () => {
  test.each(['', 'abc', 'é', '中文消息', '😀 emoji', 'a'.repeat(1024), '\ud800'])(
    'matches Buffer.byteLength for %j',
    (s) => {
      expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
    },
  );
});

test('the request map lists every legacy room command once (and our client_log extension)', () => {
  expect(new Set(ROOM_CMDS).size).toBe(ROOM_CMDS.length);
  expect([...ROOM_CMDS].sort()).toEqual([
    'bigim_chat',
    'biz_channel',
    'client_log',
    'custommsg',
    'hb',
    'im_chat',
    'login',
    'logout',
    'relay',
    'signal',
    'stream',
    'stream_info',
    'trans',
    'trans_fetch',
    'user_list',
    'webrtc_url',
  ]);
});

test('server error messages carry the legacy " code:N" suffix', () => {
  // The name comes from the server's err_message (ours always sends SERVER_CODE_MESSAGES'): the client
  // carries no table, and without a message says what the original did.
  expect(serverErrorMessage(ServerCode.TokenError, SERVER_CODE_MESSAGES[ServerCode.TokenError])).toBe(
    'token error code:1008',
  );
  expect(serverErrorMessage(ServerCode.TokenError)).toBe('unknown error code:1008');
  expect(serverErrorMessage(1000000777)).toBe('liveroom cmd error code:1000000777');
  expect(serverErrorMessage(42)).toBe('unknown error code:42');
  expect(serverErrorMessage(1008, 'custom')).toBe('custom code:1008');
});

test('token errors stop login retries, session loss does not', () => {
  expect(NO_RETRY_LOGIN_CODES.has(ServerCode.TokenError)).toBe(true);
  expect(NO_RETRY_LOGIN_CODES.has(ServerCode.TokenExpired)).toBe(true);
  expect(NO_RETRY_LOGIN_CODES.has(ServerCode.SessionNotFound)).toBe(false);
});
