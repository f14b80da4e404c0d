/**
 * One entry point for login tokens, used by the room login and the media LoginReq (which carries the same
 * token): a token starting with "04" is a token04 (./token04.ts), anything else a legacy v1 token
 * (./loginToken.ts; a v1 token is base64 of a JSON object, so it always starts with "e").
 */
import { createHash } from 'node:crypto';
import { ServerCode } from '../../protocol/errors';
import type { ResolvedConfig } from '../config';
import { checkLoginToken, type TokenVerdict } from './loginToken';
import { TOKEN04_PREFIX, verifyToken04, type TokenPrivileges } from './token04';

export type { TokenPrivileges } from './token04';

/**
 * Dev mode's ServerSecret for 04 tokens, derived from the dev AppSign (64 lower-case hex characters) so
 * that one setting (`devAppSign`) fixes both:
 * the first 32 hex characters of sha256("zegoclient-shim dev serverSecret:" + devAppSign).
 */
export function devServerSecret(devAppSign: string): string {
  return createHash('sha256')
    .update(`zegoclient-shim dev serverSecret:${devAppSign}`, 'utf8')
    .digest('hex')
    .slice(0, 32);
}

/** The ServerSecret that signs an app's 04 tokens ('' = none; undefined = unknown appid). */
export function serverSecretOf(config: ResolvedConfig, appid: number): string | undefined {
  if (config.devMode) return devServerSecret(config.devAppSign);
  const app = config.apps.find((a) => a.appid === appid);
  return app ? (app.serverSecret ?? '') : undefined;
}

export interface RoomTokenVerdict extends TokenVerdict {
  /** A 04 token's payload restrictions (absent: none). */
  privileges?: TokenPrivileges;
}

/**
 * Verifies a login token for (appid, idName, roomId). `roomId` null = not said (a media LoginReq without
 * roomid). Codes: OK, TokenError (1008), TokenExpired (1010), NotAllowed (1000000015).
 */
export function verifyRoomToken(o: {
  config: ResolvedConfig;
  appid: number;
  idName: string;
  roomId: string | null;
  token: unknown;
  /** Clock, ms (tests). */
  now?: number;
}): RoomTokenVerdict {
  const { config, appid } = o;
  const app = config.apps.find((a) => a.appid === appid);
  if (!config.devMode && !app) return { code: ServerCode.TokenError, message: 'unknown appid' };
  if (typeof o.token !== 'string' || o.token.length === 0)
    return { code: ServerCode.TokenError, message: 'token must be a non-empty string' };
  const maxLifetimeS = config.auth.maxTokenLifetimeS;
  if (o.token.startsWith(TOKEN04_PREFIX)) {
    const serverSecret = serverSecretOf(config, appid) ?? '';
    if (!serverSecret)
      return {
        code: ServerCode.TokenError,
        message: `app ${appid} has no serverSecret configured: 04 tokens are not accepted`,
      };
    return verifyToken04({ ...o, token: o.token, serverSecret, maxLifetimeS });
  }
  if (app && app.allowV1Token === false)
    return {
      code: ServerCode.TokenError,
      message: `v1 login tokens are disabled for app ${appid} (allowV1Token: false): use a 04 token`,
    };
  const appSign = config.devMode ? config.devAppSign : app!.appSign;
  return checkLoginToken({ appid, appSign, idName: o.idName, token: o.token, now: o.now, maxLifetimeS });
}

/**
 * Whether a logged-in member (or media socket) may publish a stream: a 04 token's payload may deny
 * publishing (privilege "2" = 0) or list the stream ids allowed. No privileges = no restriction.
 */
export function mayPublish(holder: { privileges?: TokenPrivileges }, streamId: string): boolean {
  const p = holder.privileges;
  if (!p) return true;
  if (!p.publish) return false;
  return p.streamIds === null || p.streamIds.includes(streamId);
}
