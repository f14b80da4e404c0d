/**
 * The ICE configuration of a stream's peer connection, from its CreateSessionRsp, never hard-coded.
 *
 * - Our server (extension): `turn_urls` lists every TURN URL (UDP, TCP, TLS) for the one credential, and
 *   `relay_only: 1` when the app forces relay (`iceTransportPolicy: 'relay'`: media never leaves the
 *   browser except through TURN). Without it the policy stays 'all': where UDP reaches the SFU directly,
 *   ICE prefers that and TURN only backs it up.
 * - A server without the extension: `turn_server` (with `turn_username` / `turn_auth_key`) and
 *   `stun_server`. 1.12.5 put both URLs in one relay-only entry with the credentials; a `turn:` URL in
 *   `stun_server` therefore gets the credentials too (a TURN URL without them makes RTCPeerConnection throw).
 * Empty strings give no ICE server at all.
 */
import type { IceFields } from '../../protocol/media';

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** `host:port` gets the scheme; a URL that has one (`turn:`, `turns:`, `stun:`, `stuns:`) is kept. */
function withScheme(url: string, scheme: 'turn' | 'stun'): string {
  return /^(turns?|stuns?):/i.test(url) ? url : `${scheme}:${url}`;
}

const isTurn = (url: string) => /^turns?:/i.test(url);

export function iceServersOf(rsp: Partial<IceFields>): RTCIceServer[] {
  const username = text(rsp.turn_username);
  const credential = text(rsp.turn_auth_key);
  const listed = Array.isArray(rsp.turn_urls) ? rsp.turn_urls.map(text).filter(isTurn) : [];
  if (listed.length) return [{ urls: listed, username, credential }];
  const out: RTCIceServer[] = [];
  const turn = text(rsp.turn_server);
  const stun = text(rsp.stun_server);
  if (turn) out.push({ urls: withScheme(turn, 'turn'), username, credential });
  if (stun && isTurn(stun)) out.push({ urls: stun, username, credential });
  else if (stun) out.push({ urls: withScheme(stun, 'stun') });
  return out;
}

/** The peer connection's configuration: ICE servers, and relay-only when the server says so. */
export function iceConfigOf(rsp: Partial<IceFields>): RTCConfiguration {
  const iceServers = iceServersOf(rsp);
  // Relay-only without a TURN server could never connect: then the server's wish cannot be met.
  return rsp.relay_only === 1 && iceServers.some((s) => [s.urls].flat().some(isTurn))
    ? { iceServers, iceTransportPolicy: 'relay' }
    : { iceServers };
}
