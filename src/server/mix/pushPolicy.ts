/**
 * No open relay: where a page may have a stream pushed (publishTarget, cdnUrl, a mix's outputUrl). Our own
 * origin is always allowed; another RTMP host only when `relay.allowHosts` lists it (`host` or
 * `host:port`), or when the business server at `relay.approveUrl` says yes (POST, 2xx within
 * approveTimeoutMs), as `thirdTokenUrl` approves logins. The approval is a call to the business server:
 * within the in-flight bounds per user and per app (outbound/CallLimiter.ts), over them refused at once
 * (1000000004) and never sent.
 */
import { ServerCode } from '../../protocol/errors';
import { LiveError, type Caller } from '../LiveStreams';
import type { RelayConfig } from '../liveConfig';
import { postJson } from '../httpPost';
import { CallsBusy, type CallLimiter } from '../outbound/CallLimiter';

export type PushTarget = { kind: 'origin'; name: string } | { kind: 'url'; url: string };

export async function checkPushUrl(
  raw: string,
  who: Caller,
  streamId: string,
  cfg: RelayConfig,
  ownName: (u: URL) => string | null,
  calls?: CallLimiter,
): Promise<PushTarget> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new LiveError(ServerCode.PushRefused, `not a URL: ${JSON.stringify(raw.slice(0, 100))}`);
  }
  if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:')
    throw new LiveError(
      ServerCode.PushRefused,
      `only rtmp:// and rtmps:// URLs are relayed (got ${u.protocol})`,
    );
  const own = ownName(u);
  if (own) return { kind: 'origin', name: own };
  const host = u.hostname.toLowerCase();
  const hostPort = `${host}:${u.port || (u.protocol === 'rtmps:' ? 443 : 1935)}`;
  if (cfg.allowHosts.some((h) => h.toLowerCase() === host || h.toLowerCase() === hostPort))
    return { kind: 'url', url: u.toString() };
  if (cfg.approveUrl) {
    let ok = false;
    const url = cfg.approveUrl;
    const ask = () =>
      postJson(
        url,
        { appid: who.appid, room_id: who.roomId, id_name: who.idName, stream_id: streamId, push_url: raw },
        cfg.approveTimeoutMs,
      );
    try {
      const r = await (calls ? calls.run({ appid: who.appid, user: who.idName }, ask) : ask());
      ok = r.status >= 200 && r.status < 300;
    } catch (e) {
      if (e instanceof CallsBusy) throw new LiveError(ServerCode.RateLimited, e.message);
      ok = false;
    }
    if (ok) return { kind: 'url', url: u.toString() };
    throw new LiveError(ServerCode.PushRefused, `the business server did not approve pushing to ${host}`);
  }
  throw new LiveError(
    ServerCode.PushRefused,
    `pushing to ${host} is not allowed (not this server's origin, not in relay.allowHosts)`,
  );
}
