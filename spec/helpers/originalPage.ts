/**
 * Pages on the original SDK (webrtc-zego@1.12.5, loaded through a <script> tag) for the media suites.
 * Every RTCPeerConnection the page makes is recorded in `window.__pcs` (for getStats probes). With
 * `relay: 'off'` the page's peer connections take every candidate instead of relay only and drop ICE
 * servers without a URL: the page then offers, and plays, exactly as 1.12.5 does, without a TURN server
 * (what the original needs to reach anything, relay-only: issue 14). With `relay: 'as-is'` nothing is
 * changed.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { devToken, openSdkPage, waitForEvent } from './browser';
import { APPID, type InboundProbe } from './mediaPage';

export const ORIGINAL_CALLBACKS = [
  'onPlayStateUpdate',
  'onPlayQualityUpdate',
  'onPublishStateUpdate',
  'onPublishQualityUpdate',
  'onVideoSizeChanged',
  'onStreamUpdated',
  'onDisconnect',
];

export async function originalPage(
  context: BrowserContext,
  serverUrl: string,
  idName: string,
  room: string,
  opts: { relay: 'off' | 'as-is'; token?: string; appid?: number; role?: 1 | 2 } = { relay: 'off' },
): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript((relay: string) => {
    const w = window as unknown as Record<string, unknown>;
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    w.__pcs = pcs;
    const Wrapped = function (this: unknown, cfg?: RTCConfiguration) {
      let c = cfg;
      if (relay === 'off' && cfg) {
        const servers = (cfg.iceServers ?? [])
          .map((s) => ({ ...s, urls: ([] as string[]).concat(s.urls ?? []).filter(Boolean) }))
          .filter((s) => s.urls.length > 0);
        c = { ...cfg, iceTransportPolicy: 'all', iceServers: servers };
      }
      const pc = new Native(c);
      pcs.push(pc);
      return pc;
    } as unknown as typeof RTCPeerConnection;
    Wrapped.prototype = Native.prototype;
    Object.assign(Wrapped, { generateCertificate: Native.generateCertificate });
    window.RTCPeerConnection = Wrapped;
  }, opts.relay);
  const sdkPage = await openSdkPage(context, serverUrl, 'original', page);
  const appid = opts.appid ?? APPID;
  const token = opts.token ?? (await devToken(serverUrl, appid, idName));
  await sdkPage.evaluate(
    ({ appid, idName, token, room, ws, names, role }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const zg = new w.ZegoClient();
      w.zg = zg;
      for (const n of names) zg[n] = w.__record(n);
      zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3, remoteLogLevel: 100 });
      zg.login(room, role, token, w.__record('loginOk'), w.__record('loginErr'));
    },
    {
      appid,
      idName,
      token,
      room,
      ws: serverUrl.replace('http', 'ws') + '/ws',
      names: ORIGINAL_CALLBACKS,
      role: opts.role ?? 2,
    },
  );
  await waitForEvent(sdkPage, 'loginOk', () => true, 15_000);
  return sdkPage;
}

/** startPlayingStream on the original into a new <video id=play-streamId>; returns its boolean. */
export async function originalPlay(
  page: Page,
  streamId: string,
  option: Record<string, unknown> = {},
): Promise<boolean> {
  return page.evaluate(
    ({ streamId, option }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      document.getElementById(`play-${streamId}`)?.remove();
      const v = document.createElement('video');
      v.id = `play-${streamId}`;
      v.autoplay = true;
      v.muted = true;
      document.body.appendChild(v);
      return w.zg.startPlayingStream(streamId, v, undefined, option);
    },
    { streamId, option },
  );
}

/** Inbound counters summed over every receiving PeerConnection of the page that is not closed. */
export async function originalInbound(
  page: Page,
): Promise<InboundProbe & { freezes: number; jitter: number; pcs: number }> {
  return page.evaluate(async () => {
    const pcs = ((window as unknown as { __pcs: RTCPeerConnection[] }).__pcs ?? []).filter(
      (p) => p.connectionState !== 'closed',
    );
    const r = {
      framesDecoded: 0,
      audioPackets: 0,
      width: 0,
      codec: '',
      freezes: 0,
      jitter: 0,
      pcs: pcs.length,
    };
    for (const pc of pcs) {
      const stats = await pc.getStats();
      const codecs = new Map<string, string>();
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      stats.forEach((s: any) => s.type === 'codec' && codecs.set(s.id, s.mimeType));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      stats.forEach((s: any) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') {
          r.framesDecoded += s.framesDecoded ?? 0;
          r.width = s.frameWidth ?? r.width;
          r.codec = codecs.get(s.codecId) ?? r.codec;
          r.freezes += s.freezeCount ?? 0;
          r.jitter = Math.max(r.jitter, s.jitter ?? 0);
        } else if (s.kind === 'audio') r.audioPackets += s.packetsReceived ?? 0;
      });
    }
    return r;
  });
}

/** Waits (bounded) until frames and audio packets grow on the original page. */
export async function expectOriginalMedia(
  page: Page,
  opts: { video?: boolean; audio?: boolean; ms?: number } = {},
): Promise<{ before: InboundProbe; after: InboundProbe }> {
  const { video = true, audio = true, ms = 15_000 } = opts;
  const deadline = Date.now() + ms;
  const before = await originalInbound(page);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const after = await originalInbound(page);
    const vOk = !video || after.framesDecoded >= before.framesDecoded + 10;
    const aOk = !audio || after.audioPackets >= before.audioPackets + 20;
    if (vOk && aOk) return { before, after };
    if (Date.now() > deadline)
      throw new Error(`no media on the original page after ${ms} ms: ${JSON.stringify({ before, after })}`);
  }
}

/** The original publishes its camera (preview, then startPublishingStream); resolves on state 0 (bounded). */
export async function originalPublish(
  page: Page,
  streamId: string,
  codec: 'VP8' | 'H264' = 'VP8',
): Promise<number> {
  const since = Date.now();
  await page.evaluate(
    ({ streamId, codec }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const v = document.createElement('video');
      v.muted = true;
      document.body.appendChild(v);
      w.zg.startPreview(
        v,
        { audio: true, video: true },
        () => w.zg.startPublishingStream(streamId, v, '', { videoDecodeType: codec }),
        w.__record('previewErr'),
      );
    },
    { streamId, codec },
  );
  const st = await waitForEvent(page, 'onPublishStateUpdate', (a) => a[1] === streamId, 30_000, since);
  if (st.args[0] !== 0) throw new Error(`original publish ${streamId} failed: ${JSON.stringify(st.args)}`);
  return st.t - since;
}

/** The local candidate type of the selected pair of each live peer connection of an original page. */
export async function originalPaths(page: Page): Promise<{ localType: string; policy: string }[]> {
  return page.evaluate(async () => {
    const pcs = ((window as unknown as { __pcs: RTCPeerConnection[] }).__pcs ?? []).filter(
      (p) => p.connectionState !== 'closed',
    );
    const out: { localType: string; policy: string }[] = [];
    for (const pc of pcs) {
      const stats = await pc.getStats();
      let pairId = '';
      stats.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const pair: any = pairId ? stats.get(pairId) : null;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const local: any = pair ? stats.get(pair.localCandidateId) : null;
      out.push({
        localType: local?.candidateType ?? '',
        policy: pc.getConfiguration().iceTransportPolicy ?? '',
      });
    }
    return out;
  });
}
