/**
 * The admin API's `mint-token`: a login token for a user of the calling app, with the app's own secrets
 * (04 with its serverSecret, v1 with its appSign), within the config's limits. What `zegoclient-server
 * token` does from a shell, for a business server that would rather ask than hold the secrets.
 */
import type { AdminRequest, AdminResponse } from '../../protocol/adminApi';
import { mintLoginToken } from '../auth/loginToken';
import { mintToken04 } from '../auth/token04';
import type { AppConfig } from '../config';

const DEFAULT_TTL_S = 3600;

/** The token, or why it cannot be minted (the admin API answers `cannot_mint`). */
export function mintForApp(
  app: AppConfig,
  maxLifetimeS: number,
  b: AdminRequest<'mint-token'>,
  nowMs = Date.now(),
): AdminResponse<'mint-token'> | { refused: string } {
  const format = b.format ?? (app.serverSecret ? '04' : 'v1');
  const ttlS = b.ttlS ?? DEFAULT_TTL_S;
  if (ttlS > maxLifetimeS) return { refused: `ttlS is over auth.maxTokenLifetimeS (${maxLifetimeS})` };
  const expiresAt = Math.floor(nowMs / 1000) + ttlS;
  if (format === 'v1') {
    if (b.roomId !== undefined || b.publish !== undefined || b.streamIds !== undefined)
      return { refused: 'roomId, publish and streamIds need format 04 (a v1 token carries no privileges)' };
    if (app.allowV1Token === false) return { refused: 'this app refuses v1 tokens (allowV1Token: false)' };
    return {
      token: mintLoginToken({ appid: app.appid, appSign: app.appSign, idName: b.idName, ttlS, now: nowMs }),
      format,
      expiresAt,
    };
  }
  if (!app.serverSecret) return { refused: 'format 04 needs the app to have a serverSecret' };
  const restricted = b.publish !== undefined || b.streamIds !== undefined;
  return {
    token: mintToken04({
      appid: app.appid,
      idName: b.idName,
      serverSecret: app.serverSecret,
      ttlS,
      now: nowMs,
      roomId: b.roomId,
      ...(restricted ? { privileges: { login: 1, publish: b.publish === false ? 0 : 1 } } : {}),
      streamIds: b.streamIds,
    }),
    format,
    expiresAt,
  };
}
