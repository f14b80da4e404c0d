/**
 * ICE servers for a stream's peer connection, from its CreateSessionRsp (`turn_server`, `stun_server`,
 * `turn_username`, `turn_auth_key`), never hard-coded. Empty strings (what our server sends until TURN
 * lands) give `[]`. 1.12.5 put both URLs in one entry with the TURN credentials and forced
 * `iceTransportPolicy: 'relay'`; we keep the policy at its default, because our SFU is reachable directly
 * and relaying every stream through TURN would only add a hop.
 */
import type { CreateSessionRspBody } from '../../protocol/media';

type IceFields = Partial<
  Pick<CreateSessionRspBody, 'turn_server' | 'stun_server' | 'turn_username' | 'turn_auth_key'>
>;

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** `host:port` gets the scheme; a URL that has one (`turn:`, `turns:`, `stun:`, `stuns:`) is kept. */
function withScheme(url: string, scheme: 'turn' | 'stun'): string {
  return /^(turns?|stuns?):/i.test(url) ? url : `${scheme}:${url}`;
}

export function iceServersOf(rsp: IceFields): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  const turn = text(rsp.turn_server);
  const stun = text(rsp.stun_server);
  if (turn)
    out.push({
      urls: withScheme(turn, 'turn'),
      username: text(rsp.turn_username),
      credential: text(rsp.turn_auth_key),
    });
  if (stun) out.push({ urls: withScheme(stun, 'stun') });
  return out;
}
