/**
 * The vendor's later `04` login token (token04, AES-GCM), as current vendor server libraries
 * (zego_server_assistant for Go, Java, Node, Python, PHP...) mint it, so a business server can use an
 * off-the-shelf library. Written from the format, not from their code:
 *
 *   token = "04" + base64( int64 BE expire | uint16 BE nonceLen | nonce (12 bytes)
 *                          | uint16 BE cipherLen | AES-256-GCM ciphertext with its 16-byte tag appended
 *                          | uint8 mode (1 = GCM) )
 *
 * The key is the app's 32-character ServerSecret as raw UTF-8 bytes. The plaintext is JSON
 * `{app_id, user_id, nonce, ctime, expire, payload}`; `payload` is '' or a JSON string
 * `{room_id, privilege: {"1": login 0/1, "2": publish 0/1}, stream_id_list: [...] | null}`.
 * Mode 0 is the vendor's deprecated AES-CBC variant, which carries no authentication tag: refused.
 *
 * Unlike v1, the encoding is unambiguous (JSON inside an authenticated cipher): no field can be shifted
 * into another.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import { utf8Length } from '../../protocol/constants';
import { ServerCode } from '../../protocol/errors';
import { DEFAULT_MAX_TOKEN_LIFETIME_S, type TokenVerdict } from './loginToken';

/** What a 04 token's payload allows; absent = a plain token, which allows everything. */
export interface TokenPrivileges {
  /** privilege "1": may log in. */
  login: boolean;
  /** privilege "2": may publish. */
  publish: boolean;
  /** Stream ids the user may publish; null = any (subject to `publish`). */
  streamIds: readonly string[] | null;
  /** The only room the token is for; null = any. */
  roomId: string | null;
}

export const TOKEN04_PREFIX = '04';
const MAX_TOKEN_CHARS = 4096;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MODE_GCM = 1;
const MODE_CBC = 0;
/** expire(8) + nonceLen(2) + nonce(12) + cipherLen(2) + at least one byte and the tag + mode(1). */
const MIN_BINARY = 8 + 2 + NONCE_BYTES + 2 + 1 + TAG_BYTES + 1;
const MAX_STREAM_IDS = 1000;

/** The AES key: the ServerSecret's UTF-8 bytes, which must be exactly 32 (AES-256). */
function keyOf(serverSecret: string): Buffer {
  const key = Buffer.from(serverSecret, 'utf8');
  if (key.length !== 32) throw new Error('serverSecret must be 32 ASCII characters (32 bytes)');
  return key;
}

export interface Mint04Options {
  appid: number;
  /** The user's idName (the token's user_id). */
  idName: string;
  serverSecret: string;
  /** Lifetime in seconds (default 3600). */
  ttlS?: number;
  /** A room the token is limited to; with privileges or streamIds this makes a payload. */
  roomId?: string;
  /** Default both 1. */
  privileges?: { login?: 0 | 1; publish?: 0 | 1 };
  /** Stream ids the user may publish (null/undefined = any). */
  streamIds?: string[] | null;
  /** Verbatim payload string (tests: malformed payloads); overrides roomId/privileges/streamIds. */
  payload?: string;
  /** Clock, ms (tests). */
  now?: number;
  /** Writes this in the binary header instead of the real expire (tests: tampering). */
  outerExpire?: number;
  /** Encryption mode byte (tests: mode 0 is refused). */
  mode?: number;
}

/** Mints a 04 token (tests, dev mode's /token?format=04, `zegoclient-server token`). */
export function mintToken04(o: Mint04Options): string {
  const ctime = Math.floor((o.now ?? Date.now()) / 1000);
  const expire = ctime + (o.ttlS ?? 3600);
  let payload = o.payload;
  if (payload === undefined) {
    const restricted =
      o.roomId !== undefined ||
      o.privileges !== undefined ||
      (o.streamIds !== undefined && o.streamIds !== null);
    payload = restricted
      ? JSON.stringify({
          room_id: o.roomId ?? '',
          privilege: { '1': o.privileges?.login ?? 1, '2': o.privileges?.publish ?? 1 },
          stream_id_list: o.streamIds ?? null,
        })
      : '';
  }
  const plain = JSON.stringify({
    app_id: o.appid,
    user_id: o.idName,
    // The vendor libraries use a random int32 here.
    nonce: randomInt(-(2 ** 31), 2 ** 31 - 1),
    ctime,
    expire,
    payload,
  });
  const iv = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(o.serverSecret), iv, { authTagLength: TAG_BYTES });
  const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const out = Buffer.alloc(8 + 2 + iv.length + 2 + sealed.length + 1);
  let at = out.writeBigInt64BE(BigInt(o.outerExpire ?? expire), 0);
  at = out.writeUInt16BE(iv.length, at);
  at += iv.copy(out, at);
  at = out.writeUInt16BE(sealed.length, at);
  at += sealed.copy(out, at);
  out.writeUInt8(o.mode ?? MODE_GCM, at);
  return TOKEN04_PREFIX + out.toString('base64');
}

export interface Verify04Options {
  appid: number;
  idName: string;
  /** The room being logged in to; null = not said (a media LoginReq without roomid). */
  roomId: string | null;
  token: string;
  serverSecret: string;
  /** Clock, ms (tests). */
  now?: number;
  maxLifetimeS?: number;
}

export interface Token04Verdict extends TokenVerdict {
  privileges?: TokenPrivileges;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** Reads the payload's privileges; a string on error. '' = none (everything allowed). */
function parsePayload(payload: string): TokenPrivileges | undefined | string {
  if (payload === '') return undefined;
  let p: unknown;
  try {
    p = JSON.parse(payload);
  } catch {
    return '04 token payload is not JSON';
  }
  if (!isObject(p)) return '04 token payload is not a JSON object';
  const { room_id: room, privilege, stream_id_list: list } = p;
  if (room !== undefined && room !== null && typeof room !== 'string')
    return '04 token payload room_id must be a string';
  const flag = (k: '1' | '2'): boolean | string => {
    if (privilege === undefined || privilege === null) return true;
    if (!isObject(privilege)) return '04 token payload privilege must be an object';
    const v = privilege[k];
    if (v === undefined) return true;
    if (v !== 0 && v !== 1) return `04 token payload privilege "${k}" must be 0 or 1`;
    return v === 1;
  };
  const login = flag('1');
  const publish = flag('2');
  if (typeof login === 'string') return login;
  if (typeof publish === 'string') return publish;
  let streamIds: string[] | null = null;
  if (list !== undefined && list !== null) {
    if (
      !Array.isArray(list) ||
      list.length > MAX_STREAM_IDS ||
      !list.every((s) => typeof s === 'string' && utf8Length(s) <= 256)
    )
      return '04 token payload stream_id_list must be a list of stream ids';
    streamIds = list as string[];
  }
  return { login, publish, streamIds, roomId: room ? room : null };
}

/**
 * Verifies a 04 token for a login: well-formed, mode 1 (GCM), decrypts and authenticates with the
 * app's ServerSecret, outer expire = inner expire, app_id and user_id match, not expired, lifetime
 * within `maxLifetimeS`, the payload's room (if any) is this room and it allows login.
 * Codes: TokenError (1008), TokenExpired (1010), NotAllowed (1000000015).
 */
export function verifyToken04(o: Verify04Options): Token04Verdict {
  const bad = (message: string): Token04Verdict => ({ code: ServerCode.TokenError, message });
  const t = o.token;
  if (typeof t !== 'string' || !t.startsWith(TOKEN04_PREFIX) || t.length > MAX_TOKEN_CHARS)
    return bad(`a 04 token is "04" + base64, at most ${MAX_TOKEN_CHARS} characters`);
  const b64 = t.slice(TOKEN04_PREFIX.length);
  // Buffer's base64 decoder skips what it does not understand; a token must be exactly base64.
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return bad('04 token is not base64');
  const buf = Buffer.from(b64, 'base64');
  if (buf.length < MIN_BINARY) return bad('04 token too short');
  const outerExpire = buf.readBigInt64BE(0);
  const nonceLen = buf.readUInt16BE(8);
  const cipherAt = 12 + nonceLen;
  if (cipherAt > buf.length) return bad('04 token lengths do not match its size');
  const cipherLen = buf.readUInt16BE(10 + nonceLen);
  const cbc = 'mint GCM (mode 1) tokens';
  // The vendor's early form had no mode byte (AES-CBC, a 16-byte IV): say so rather than "bad lengths".
  if (cipherAt + cipherLen === buf.length)
    return bad(`04 token without a mode byte (the early AES-CBC form) is refused: ${cbc}`);
  if (cipherAt + cipherLen + 1 !== buf.length) return bad('04 token lengths do not match its size');
  const mode = buf.readUInt8(buf.length - 1);
  if (mode === MODE_CBC)
    return bad(`04 token mode 0 (AES-CBC, deprecated and unauthenticated) is refused: ${cbc}`);
  if (mode !== MODE_GCM) return bad(`04 token mode ${mode} is unknown (1 = AES-GCM)`);
  // With a 12-byte nonce, MIN_BINARY leaves at least one byte of ciphertext besides the tag.
  if (nonceLen !== NONCE_BYTES) return bad(`04 token nonce must be ${NONCE_BYTES} bytes`);
  const iv = buf.subarray(10, 10 + nonceLen);
  let key: Buffer;
  try {
    key = keyOf(o.serverSecret);
  } catch (e) {
    return bad((e as Error).message);
  }
  const sealed = buf.subarray(cipherAt, cipherAt + cipherLen);
  let plain: string;
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    plain = Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]).toString(
      'utf8',
    );
  } catch {
    return bad('04 token does not authenticate (another serverSecret, or altered)');
  }
  let claims: unknown;
  try {
    claims = JSON.parse(plain);
  } catch {
    return bad('04 token content is not JSON');
  }
  if (!isObject(claims)) return bad('04 token content is not a JSON object');
  const { app_id: appId, user_id: userId, expire, payload } = claims;
  if (typeof appId !== 'number' || typeof userId !== 'string' || !Number.isSafeInteger(expire))
    return bad('04 token needs app_id, user_id and expire');
  if (payload !== undefined && typeof payload !== 'string') return bad('04 token payload must be a string');
  if (BigInt(expire as number) !== outerExpire) return bad('04 token expire does not match its header');
  if (appId !== o.appid) return bad('04 token is for another app_id');
  if (userId !== o.idName) return bad('04 token is for another user_id');
  const nowS = Math.floor((o.now ?? Date.now()) / 1000);
  if ((expire as number) < nowS) return { code: ServerCode.TokenExpired, message: 'token expired' };
  const max = o.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
  if ((expire as number) - nowS > max) return bad(`token lifetime over the ${max} s the server allows`);
  const privileges = parsePayload(payload ?? '');
  if (typeof privileges === 'string') return bad(privileges);
  if (privileges?.roomId && o.roomId !== null && privileges.roomId !== o.roomId)
    return { code: ServerCode.NotAllowed, message: 'the login token is for another room' };
  if (privileges && !privileges.login)
    return {
      code: ServerCode.NotAllowed,
      message: 'the login token does not allow login (privilege "1" is 0)',
    };
  return { code: ServerCode.OK, privileges };
}
