/**
 * Browser-side helpers for the media suites: a page logged in through dist/ZegoClient.js with every
 * media callback recorded, and getStats probes that tell whether video frames are decoded and audio
 * packets arrive.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { devToken, openSdkPage, waitForEvent } from './browser';

export const APPID = 1739272706;

export const MEDIA_CALLBACKS = [
  'onPublishStateUpdate',
  'onPlayStateUpdate',
  'onPublishQualityUpdate',
  'onPlayQualityUpdate',
  'onVideoSizeChanged',
  'onRemoteCameraStatusUpdate',
  'onRemoteMicStatusUpdate',
  'onStreamUpdated',
  'onStreamExtraInfoUpdated',
  'onTempBroken',
  'onReconnect',
  'onDisconnect',
];

/**
 * Opens a page, creates `window.zg`, records the callbacks, logs in to `room`. Dev mode by default (the
 * token from /token); an app of its own passes `config.appid` and a `token` minted for it.
 */
export async function loggedInPage(
  context: BrowserContext,
  serverUrl: string,
  idName: string,
  room = 'media-room',
  config: Record<string, unknown> = {},
  givenToken?: string,
): Promise<Page> {
  const page = await openSdkPage(context, serverUrl, 'shim');
  const token = givenToken ?? (await devToken(serverUrl, APPID, idName));
  await page.evaluate(
    ({ appid, idName, token, room, ws, names, config }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const zg = new w.ZegoClient();
      w.zg = zg;
      for (const n of names) zg[n] = w.__record(n);
      zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3, ...config });
      zg.login(room, 1, token, w.__record('loginOk'), w.__record('loginErr'));
    },
    {
      appid: APPID,
      idName,
      token,
      room,
      ws: serverUrl.replace('http', 'ws') + '/ws',
      names: MEDIA_CALLBACKS,
      config,
    },
  );
  await waitForEvent(page, 'loginOk');
  return page;
}

/** Adds a <video id> to the page. */
export async function addVideo(page: Page, id: string, muted = true): Promise<void> {
  await page.evaluate(
    ({ id, muted }) => {
      const v = document.createElement('video');
      v.id = id;
      v.autoplay = true;
      v.muted = muted;
      v.playsInline = true;
      document.body.appendChild(v);
    },
    { id, muted },
  );
}

export async function startPreview(
  page: Page,
  id: string,
  constraints: Record<string, unknown> = {},
): Promise<void> {
  await addVideo(page, id);
  const ok = await page.evaluate(
    ({ id, constraints }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      return w.zg.startPreview(
        document.getElementById(id),
        { audio: true, video: true, ...constraints },
        w.__record('previewOk'),
        w.__record('previewErr'),
      );
    },
    { id, constraints },
  );
  if (!ok) throw new Error('startPreview returned false');
  await waitForEvent(page, 'previewOk');
}

export interface InboundProbe {
  framesDecoded: number;
  audioPackets: number;
  width: number;
  codec: string;
}

/** Sums inbound-rtp counters over the page's playing PeerConnection for a stream. */
export async function inbound(page: Page, streamId: string): Promise<InboundProbe> {
  return page.evaluate(async (streamId) => {
    const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const pc: RTCPeerConnection | null = w.zg.engine.media.players.get(streamId)?.session.pc ?? null;
    const r = { framesDecoded: 0, audioPackets: 0, width: 0, codec: '' };
    if (!pc) return r;
    const stats = await pc.getStats();
    const codecs = new Map<string, string>();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    stats.forEach((s: any) => {
      if (s.type === 'codec') codecs.set(s.id, s.mimeType);
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    stats.forEach((s: any) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        r.framesDecoded += s.framesDecoded ?? 0;
        r.width = s.frameWidth ?? r.width;
        r.codec = codecs.get(s.codecId) ?? r.codec;
      } else if (s.kind === 'audio') r.audioPackets += s.packetsReceived ?? 0;
    });
    return r;
  }, streamId);
}

/** Waits (bounded) until frames and audio packets grow on the player of `streamId`. */
export async function expectMediaFlowing(
  page: Page,
  streamId: string,
  opts: { video?: boolean; audio?: boolean; ms?: number } = {},
): Promise<{ before: InboundProbe; after: InboundProbe }> {
  const { video = true, audio = true, ms = 15_000 } = opts;
  const deadline = Date.now() + ms;
  const before = await inbound(page, streamId);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const after = await inbound(page, streamId);
    const vOk = !video || after.framesDecoded >= before.framesDecoded + 10;
    const aOk = !audio || after.audioPackets >= before.audioPackets + 20;
    if (vOk && aOk) return { before, after };
    if (Date.now() > deadline)
      throw new Error(
        `media not flowing for ${streamId} after ${ms} ms: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`,
      );
  }
}

/** startPublishingStream from the preview in <video id=videoId>; resolves on onPublishStateUpdate(0). */
export async function publish(
  page: Page,
  streamId: string,
  videoId = 'local',
  option: Record<string, unknown> = {},
  extraInfo = '',
): Promise<void> {
  const since = Date.now();
  const ok = await page.evaluate(
    ({ streamId, videoId, option, extraInfo }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      return w.zg.startPublishingStream(streamId, document.getElementById(videoId), extraInfo, option);
    },
    { streamId, videoId, option, extraInfo },
  );
  if (!ok) throw new Error('startPublishingStream returned false');
  const st = await waitForEvent(page, 'onPublishStateUpdate', (a) => a[1] === streamId, 20_000, since);
  if (st.args[0] !== 0) throw new Error(`publish ${streamId} failed: ${JSON.stringify(st.args)}`);
}

/** startPlayingStream into a new <video>; resolves on onPlayStateUpdate(0). */
export async function play(
  page: Page,
  streamId: string,
  option: Record<string, unknown> = {},
): Promise<void> {
  const since = Date.now();
  const ok = await page.evaluate(
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
  if (!ok) throw new Error('startPlayingStream returned false');
  const st = await waitForEvent(page, 'onPlayStateUpdate', (a) => a[1] === streamId, 20_000, since);
  if (st.args[0] !== 0) throw new Error(`play ${streamId} failed: ${JSON.stringify(st.args)}`);
}

/** Calls a zg method in the page with JSON-able arguments and returns its result. */
export async function zg(page: Page, method: string, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(
    ({ method, args }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      return w.zg[method](...args);
    },
    { method, args },
  );
}

/** Events recorded so far in the page. */
export async function events(page: Page, name: string): Promise<unknown[][]> {
  return page.evaluate(
    (name) =>
      (window as unknown as { __events: { name: string; args: unknown[] }[] }).__events
        .filter((e) => e.name === name)
        .map((e) => e.args),
    name,
  );
}

/** updateMixStream from a page: its success arguments (a failure throws with its error). */
export async function updateMix(page: Page, config: object): Promise<unknown[]> {
  const since = Date.now() - 1;
  const sent = await page.evaluate((c) => {
    const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    return w.zg.updateMixStream(c, w.__record('mixOk'), w.__record('mixErr'));
  }, config);
  expect(sent).toBe(true);
  const r = await Promise.race([
    waitForEvent(page, 'mixOk', () => true, 30_000, since),
    waitForEvent(page, 'mixErr', () => true, 30_000, since).then((e) => {
      throw new Error(`updateMixStream error: ${JSON.stringify(e.args)}`);
    }),
  ]);
  return r.args;
}
