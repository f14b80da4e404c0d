/**
 * Dev mode's token service, `GET /token?app_id=&id_name=` (the shape of the old demo token service):
 * a v1 login token, what legacy pages expect; `&format=04` (with an optional `room_id`) a 04 token
 * signed with the dev ServerSecret (derived from devAppSign, see roomToken.devServerSecret).
 */
import { utf8Length } from '../../protocol/constants';
import type { ResolvedConfig } from '../config';
import { mintLoginToken } from './loginToken';
import { devServerSecret } from './roomToken';
import { mintToken04 } from './token04';

/** The status and text answer for a /token request (never throws). */
export function devTokenAnswer(config: ResolvedConfig, q: URLSearchParams): { status: number; body: string } {
  if (!config.devMode) return { status: 404, body: 'the token service exists in dev mode only' };
  const appid = Number(q.get('app_id'));
  const idName = q.get('id_name') ?? '';
  const format = q.get('format') ?? 'v1';
  const roomId = q.get('room_id') ?? '';
  if (!Number.isInteger(appid) || appid <= 0 || appid > 2 ** 32 - 1 || !idName || utf8Length(idName) > 256)
    return { status: 400, body: 'app_id (a positive integer) and id_name are required' };
  if (format !== 'v1' && format !== '04') return { status: 400, body: 'format must be v1 or 04' };
  if (utf8Length(roomId) > 256) return { status: 400, body: 'room_id too long' };
  if (format === 'v1') {
    if (roomId) return { status: 400, body: 'room_id needs format=04 (a v1 token is not bound to a room)' };
    return { status: 200, body: mintLoginToken({ appid, appSign: config.devAppSign, idName }) };
  }
  const serverSecret = devServerSecret(config.devAppSign);
  return { status: 200, body: mintToken04({ appid, idName, serverSecret, roomId: roomId || undefined }) };
}
