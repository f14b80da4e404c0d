#!/usr/bin/env node
/**
 * Overflow relay: first decoded frame of a viewer on the publisher's Janus beside one on the overflow Janus
 * (`janus.instances: 2`, `janus.maxViewersPerFeed: 1`). Runs inside scripts/netns.sh: the built server as a
 * child process with its two Janus, real Chromium (fake camera, 640x480 VP8), pages driving
 * dist/ZegoClient.js. Each run publishes a new stream, then viewer 1 plays it (on the source's Janus), then
 * viewer 2 (past the limit: relayed to the other Janus), each timed from the startPlayingStream call to the
 * first decoded frame (getStats polled every 20 ms); then the publisher stops and the relay must be gone.
 * Prints each run and the min/p50/max; never fails on a time.
 *
 *   bash scripts/netns.sh node bench/overflow.js   # BENCH_OVERFLOW_RUNS (8) runs
 *   BENCH_OVERFLOW_GAP_MS=1000 ...                  # viewer 2 plays that long after viewer 1's first frame
 *   BENCH_OVERFLOW_MAX=2 ...                        # the control: both viewers on the source's Janus
 *   BENCH_PAGE_LOG=1 ...                            # the pages' SDK log, with times; BENCH_LOG=info the server's
 * Each run line shows, per viewer, the first video packet, the client's answer and connected steps, and at the
 * first frame the PLIs the viewer sent and the keyframes it decoded.
 */
const { pct, startBuiltServer, requireNetns, launchBenchChromium } = require('./lib');

const APPID = 1739272706;
const RUNS = Number(process.env.BENCH_OVERFLOW_RUNS || 8);
const GAP_MS = Number(process.env.BENCH_OVERFLOW_GAP_MS || 0);
/** 1: viewer 2 goes through the relay; 2 (the control): both viewers on the source's Janus. */
const MAX = Number(process.env.BENCH_OVERFLOW_MAX || 1);
/**
 * Between runs, longer than the SDK's idle close of a media socket (3 s, src/client/media/MediaSignal.ts):
 * each run starts on fresh media sockets, and no idle timer of the last run fires in the middle of this one.
 */
const BETWEEN_RUNS_MS = 3500;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

async function page(context, url, idName) {
  const p = await context.newPage();
  // BENCH_PAGE_LOG=1: the SDK's own log (level 0) of every page, with the time, on this output.
  if (process.env.BENCH_PAGE_LOG)
    p.on('console', (m) => console.log(`PAGE ${idName} ${Date.now()} ${m.text().slice(0, 300)}`));
  await p.goto(`${url}/healthz`);
  await p.setContent('<!doctype html><html><body><video id="local" muted autoplay></video></body></html>');
  await p.addScriptTag({ url: '/ZegoClient.js' });
  const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${idName}`)).text();
  await p.evaluate(
    ({ appid, idName, token, ws, logLevel }) =>
      new Promise((resolve, reject) => {
        const zg = new window.ZegoClient();
        window.zg = zg;
        window.states = [];
        zg.onPublishStateUpdate = (t, id, e) =>
          window.states.push({ kind: 'pub', t, id, e, at: performance.now() });
        zg.onPlayStateUpdate = (t, id) => window.states.push({ kind: 'play', t, id, at: performance.now() });
        zg.config({ appid, idName, nickName: idName, server: ws, logLevel: logLevel });
        zg.login('bench-overflow', 1, token, resolve, (e) => reject(new Error(JSON.stringify(e))));
      }),
    {
      appid: APPID,
      idName,
      token,
      ws: url.replace('http', 'ws') + '/ws',
      logLevel: process.env.BENCH_PAGE_LOG ? 0 : 3,
    },
  );
  return p;
}

async function publish(p, streamId) {
  await p.evaluate(
    (streamId) =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        if (
          !window.zg.startPublishingStream(streamId, document.getElementById('local'), '', {
            videoDecodeType: 'VP8',
          })
        )
          return reject(new Error('startPublishingStream false'));
        const poll = () => {
          const s = window.states.find((x) => x.kind === 'pub' && x.id === streamId && x.at >= t0);
          if (!s) return setTimeout(poll, 5);
          if (s.t !== 0) return reject(new Error(`publish ${streamId} state ${s.t} ${JSON.stringify(s.e)}`));
          resolve();
        };
        poll();
        setTimeout(() => reject(new Error('publish timeout')), 20_000);
      }),
    streamId,
  );
}

/**
 * Plays; resolves with ms from the call to the first decoded frame, to the first video packet, the client's
 * negotiation timeline, the call's wall-clock time (to line up with server logs) and the inbound video
 * counters at the first frame (PLIs/FIRs the viewer sent, keyframes decoded).
 */
async function firstFrame(p, streamId) {
  return p.evaluate(
    (streamId) =>
      new Promise((resolve, reject) => {
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        document.body.appendChild(v);
        const at = Date.now();
        const t0 = performance.now();
        if (!window.zg.startPlayingStream(streamId, v, undefined, { videoDecodeType: 'VP8' }))
          return reject(new Error('startPlayingStream false'));
        let firstPkt = null;
        const end = t0 + 20_000;
        const poll = async () => {
          const session = window.zg.engine.media.players.get(streamId)?.session;
          const pc = session?.pc;
          if (pc) {
            const stats = await pc.getStats();
            let vin = null;
            stats.forEach((s) => {
              if (s.type === 'inbound-rtp' && s.kind === 'video') vin = s;
            });
            if (vin && vin.packetsReceived > 0 && firstPkt === null) firstPkt = performance.now() - t0;
            if (vin && vin.framesDecoded > 0)
              return resolve({
                at,
                frame: performance.now() - t0,
                firstPkt,
                timeline: session.timeline,
                pli: vin.pliCount,
                fir: vin.firCount,
                kf: vin.keyFramesDecoded,
                pkts: vin.packetsReceived,
                jb: vin.jitterBufferEmittedCount
                  ? (1000 * vin.jitterBufferDelay) / vin.jitterBufferEmittedCount
                  : null,
              });
          }
          if (performance.now() > end) return reject(new Error(`no frame on ${streamId} in 20 s`));
          setTimeout(poll, 20);
        };
        poll();
      }),
    streamId,
  );
}

async function main() {
  requireNetns('bench/overflow.js');
  const srv = await startBuiltServer(
    {
      log: { level: process.env.BENCH_LOG || 'warn' },
      janus: {
        interface: '127.0.0.2',
        iceEnforceList: '127.0.0.2',
        instances: 2,
        maxViewersPerFeed: MAX,
      },
      turn: { enabled: false },
      origin: { enabled: false },
      relay: { all: false },
    },
    { janus: true },
  );
  const browser = await launchBenchChromium();
  const context = await browser.newContext();
  const src = [];
  const over = [];
  try {
    const pub = await page(context, srv.url, 'pub');
    const v1 = await page(context, srv.url, 'viewer-1');
    const v2 = await page(context, srv.url, 'viewer-2');
    await pub.evaluate(
      () =>
        new Promise((resolve, reject) =>
          window.zg.startPreview(
            document.getElementById('local'),
            { audio: true, video: true },
            resolve,
            (e) => reject(new Error(JSON.stringify(e))),
          ),
        ),
    );
    for (let run = 1; run <= RUNS; run++) {
      const id = `s-over-${run}`;
      await publish(pub, id);
      const a = await firstFrame(v1, id);
      if (GAP_MS) await sleep(GAP_MS);
      const b = await firstFrame(v2, id);
      const h = (await srv.health()).media;
      if (Number(h.janusRelays) !== (MAX === 1 ? 1 : 0))
        throw new Error(`run ${run}: ${h.janusRelays} relays open (maxViewersPerFeed ${MAX})`);
      src.push(a.frame);
      over.push(b.frame);
      const f = (x) =>
        `frame ${x.frame.toFixed(0)} ms (first packet ${x.firstPkt?.toFixed(0)} ms, answer ${
          x.timeline.find((s) => s[0] === 'answer')?.[1]?.toFixed(0) ?? '?'
        } ms, connected ${x.timeline.find((s) => s[0] === 'connected')?.[1]?.toFixed(0) ?? '?'} ms; pli ${x.pli} fir ${
          x.fir
        } keyframes ${x.kf})`;
      console.log(`run ${run}: viewer 1 ${f(a)}; viewer 2 ${f(b)} [play at ${a.at} / ${b.at}]`);
      for (const v of [v1, v2]) await v.evaluate((id) => window.zg.stopPlayingStream(id), id);
      await pub.evaluate((id) => window.zg.stopPublishingStream(id), id);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const m = (await srv.health()).media;
        if (Number(m.janusRelays) === 0 && m.janusPool.every((x) => x.legs === 0)) break;
        if (Date.now() > deadline) throw new Error(`run ${run}: left over ${JSON.stringify(m.janusPool)}`);
        await sleep(50);
      }
      if (run < RUNS) await sleep(BETWEEN_RUNS_MS);
    }
    const line = (name, xs) =>
      `${name}: min ${Math.min(...xs).toFixed(0)} ms, p50 ${pct(xs, 50).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
    console.log(
      `\nfirst decoded frame after startPlayingStream, ${RUNS} runs${GAP_MS ? `, viewer 2 ${GAP_MS} ms later` : ''}:`,
    );
    const second = MAX === 1 ? 'viewer 2, on the overflow Janus' : 'viewer 2, on the source Janus  ';
    console.log('  ' + line('viewer 1, on the source Janus  ', src));
    console.log('  ' + line(second, over));
    const ratio = over.map((x, i) => x / src[i]);
    console.log(
      `  viewer 2 / viewer 1 per run: p50 ${pct(ratio, 50).toFixed(2)}x, max ${Math.max(...ratio).toFixed(2)}x`,
    );
  } finally {
    await context.close().catch(() => {});
    await browser.close().catch(() => {});
    await srv.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
