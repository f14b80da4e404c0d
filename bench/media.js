#!/usr/bin/env node
/**
 * Media-plane benchmarks (`npm run bench`, second part). Runs inside scripts/netns.sh: the built server as
 * a child process with its own Janus, real Chromium (fake camera, 640x480 VP8), pages driving
 * dist/ZegoClient.js. Prints figures; never fails on a time.
 *  1. startPublishingStream -> onPublishStateUpdate(0): p50/p95 over 10 runs
 *  2. startPlayingStream -> first decoded frame (getStats polled every 20 ms): p50/p95 over 10 runs
 *  3. Janus CPU at 8 viewers of one stream (per viewer), from /proc/<pid>/stat over 10 s
 *  4. 100 publish/stop cycles: Janus handles and sessions left, Janus RSS before/after
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, writeFileSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir, networkInterfaces } = require('node:os');
const { join } = require('node:path');

const { pct, freePort, rssKb } = require('./lib');

const ROOT = join(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const APPID = 1739272706;
const RUNS = Number(process.env.BENCH_MEDIA_RUNS || 10);
const CYCLES = Number(process.env.BENCH_MEDIA_CYCLES || 100);

const ms = (x) => `${x.toFixed(0)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'zego-media-bench-'));
  const port = await freePort();
  const cfg = join(dir, 'config.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      host: '127.0.0.1',
      port,
      log: { level: process.env.BENCH_LOG || 'warn' },
      janus: {
        interface: '127.0.0.2',
        iceEnforceList: '127.0.0.2',
        rtpPortRange: process.env.BENCH_RTP || '20000-20100',
      },
    }),
  );
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'server', 'cli.js'), '--config', cfg], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const health = async () => (await fetch(`${url}/healthz`)).json();
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await health()).media.janus === 'up') break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('server/Janus did not start within 20 s');
    await sleep(100);
  }
  return {
    url,
    health,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 8000).unref();
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}

async function page(context, url, idName) {
  const p = await context.newPage();
  await p.goto(`${url}/healthz`);
  await p.setContent('<!doctype html><html><body></body></html>');
  await p.addScriptTag({ url: '/ZegoClient.js' });
  const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${idName}`)).text();
  await p.evaluate(
    ({ appid, idName, token, ws }) =>
      new Promise((resolve, reject) => {
        const zg = new window.ZegoClient();
        window.zg = zg;
        window.states = [];
        zg.onPublishStateUpdate = (t, id, e) =>
          window.states.push({ kind: 'pub', t, id, e, at: performance.now() });
        zg.onPlayStateUpdate = (t, id) => window.states.push({ kind: 'play', t, id, at: performance.now() });
        zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3 });
        zg.login('bench-media', 1, token, resolve, (e) => reject(new Error(JSON.stringify(e))));
      }),
    { appid: APPID, idName, token, ws: url.replace('http', 'ws') + '/ws' },
  );
  return p;
}

/** Publishes from the page's preview; returns ms from the call to onPublishStateUpdate(0). */
async function timePublish(p, streamId) {
  return p.evaluate(
    (streamId) =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        const ok = window.zg.startPublishingStream(streamId, document.getElementById('local'), '', {
          videoDecodeType: 'VP8',
        });
        if (!ok) return reject(new Error('startPublishingStream false'));
        const poll = () => {
          const s = window.states.find((x) => x.kind === 'pub' && x.id === streamId && x.at >= t0);
          if (!s) return setTimeout(poll, 2);
          if (s.t !== 0) return reject(new Error(`publish ${streamId} state ${s.t} ${JSON.stringify(s.e)}`));
          resolve(s.at - t0);
        };
        poll();
        setTimeout(() => reject(new Error('publish timeout')), 20_000);
      }),
    streamId,
  );
}

/** Plays; returns ms from the call to the first decoded frame (getStats every 20 ms). */
async function timeFirstFrame(p, streamId) {
  return p.evaluate(
    (streamId) =>
      new Promise((resolve, reject) => {
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        document.body.appendChild(v);
        const t0 = performance.now();
        if (!window.zg.startPlayingStream(streamId, v, undefined, { videoDecodeType: 'VP8' }))
          return reject(new Error('startPlayingStream false'));
        const end = t0 + 20_000;
        const poll = async () => {
          const pc = window.zg.engine.media.players.get(streamId)?.session.pc;
          if (pc) {
            const stats = await pc.getStats();
            let frames = 0;
            stats.forEach((s) => {
              if (s.type === 'inbound-rtp' && s.kind === 'video') {
                frames += s.framesDecoded || 0;
                if (window.BENCH_DEBUG && s.packetsReceived && !window.firstPkt)
                  window.firstPkt = performance.now() - t0;
                if (window.BENCH_DEBUG)
                  window.lastIn = {
                    pkts: s.packetsReceived,
                    fr: s.framesReceived,
                    pli: s.pliCount,
                    fir: s.firCount,
                    kf: s.keyFramesDecoded,
                  };
              }
            });
            if (frames > 0) {
              const took = performance.now() - t0;
              if (window.BENCH_DEBUG)
                console.log(
                  'timeline',
                  JSON.stringify(window.zg.engine.media.players.get(streamId).session.timeline),
                  'frame',
                  took.toFixed(0),
                  'firstPkt',
                  String(window.firstPkt && window.firstPkt.toFixed(0)),
                  JSON.stringify(window.lastIn),
                );
              window.firstPkt = 0;
              return resolve(took);
            }
          }
          if (performance.now() > end) return reject(new Error('no frame in 20 s'));
          setTimeout(poll, 20);
        };
        poll();
      }),
    streamId,
  );
}

(async () => {
  if (!Object.values(networkInterfaces()).some((l) => l.some((a) => a.address === '127.0.0.2')))
    throw new Error('run inside the network namespace: bash scripts/netns.sh node bench/media.js');
  const { chromium } = require('playwright-core');
  const srv = await startServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  try {
    const context = await browser.newContext();
    console.log(
      `media-plane bench: node ${process.version}, Chromium fake camera 640x480, VP8, loopback in a netns`,
    );
    const a = await page(context, srv.url, 'bench-pub');
    const b = await page(context, srv.url, 'bench-view');
    if (process.env.BENCH_DEBUG) {
      await b.evaluate(() => (window.BENCH_DEBUG = true));
      b.on('console', (m) => m.text().startsWith('timeline') && console.log(m.text()));
    }
    // The legacy default preview is 640x480 at 15 fps; BENCH_FPS=20 matches the prototype's capture.
    const fps = Number(process.env.BENCH_FPS || 15);
    await a.evaluate(
      (fps) =>
        new Promise((resolve, reject) => {
          const v = document.createElement('video');
          v.id = 'local';
          v.muted = true;
          document.body.appendChild(v);
          const c = {
            audio: true,
            video: true,
            videoQuality: 4,
            width: 640,
            height: 480,
            frameRate: fps,
            bitrate: 800,
          };
          window.zg.startPreview(v, c, resolve, reject);
        }),
      fps,
    );
    console.log(`publisher capture 640x480 at ${fps} fps`);
    const pubTimes = [];
    const playTimes = [];
    for (let i = 0; i < RUNS; i++) {
      const id = `run-${i}`;
      pubTimes.push(await timePublish(a, id));
      if (process.env.BENCH_DEBUG) console.log('published', id, pubTimes[i]);
      playTimes.push(await timeFirstFrame(b, id));
      await b.evaluate((id) => window.zg.stopPlayingStream(id), id);
      await a.evaluate((id) => window.zg.stopPublishingStream(id), id);
      await sleep(200);
    }
    console.log(
      `startPublishingStream -> onPublishStateUpdate(0), ${RUNS} runs: p50 ${ms(pct(pubTimes, 50))}  p95 ${ms(pct(pubTimes, 95))}  (prototype, raw janode: 54-78 ms to webrtcup)`,
    );
    console.log(
      `startPlayingStream -> first decoded frame, ${RUNS} runs: p50 ${ms(pct(playTimes, 50))}  p95 ${ms(pct(playTimes, 95))}  (prototype: 158-187 ms)`,
    );

    // Janus CPU: publisher alone, then 8 viewers.
    const health = await srv.health();
    const janusPid = health.media.janusPid;
    const hz = 100; // USER_HZ on Linux
    const cpuOver = async (secs) => {
      const c0 = cpuTicks(janusPid);
      await sleep(secs * 1000);
      return ((cpuTicks(janusPid) - c0) / hz / secs) * 100;
    };
    await timePublish(a, 'cpu');
    const alone = await cpuOver(10);
    const viewers = [b];
    for (let i = 1; i < 8; i++) viewers.push(await page(context, srv.url, `bench-view-${i}`));
    await Promise.all(viewers.map((v) => timeFirstFrame(v, 'cpu')));
    await sleep(2000);
    const eight = await cpuOver(10);
    console.log(
      `Janus CPU (% of one core, 10 s): publisher alone ${alone.toFixed(1)}%, 8 viewers ${eight.toFixed(1)}% -> ${((eight - alone) / 8).toFixed(2)}% per viewer`,
    );
    for (const v of viewers) await v.evaluate(() => window.zg.stopPlayingStream('cpu'));
    await a.evaluate(() => window.zg.stopPublishingStream('cpu'));
    for (const v of viewers.slice(1)) await v.close();
    await sleep(500);

    // Leak check: publish/stop cycles.
    const before = await srv.health();
    const rss0 = rssKb(janusPid);
    const t0 = Date.now();
    for (let i = 0; i < CYCLES; i++) {
      await timePublish(a, `cycle-${i}`);
      await a.evaluate((id) => window.zg.stopPublishingStream(id), `cycle-${i}`);
    }
    await sleep(1000);
    const after = await srv.health();
    console.log(
      `${CYCLES} publish/stop cycles in ${((Date.now() - t0) / 1000).toFixed(1)} s: Janus handles ${before.media.janusHandles} -> ${after.media.janusHandles}, media sessions ${before.media.sessions} -> ${after.media.sessions}, publishers ${after.media.publishers}, Janus RSS ${(rss0 / 1024).toFixed(1)} -> ${(rssKb(janusPid) / 1024).toFixed(1)} MiB`,
    );
  } finally {
    await browser.close();
    await srv.stop();
  }
})().catch((e) => {
  console.error('media bench failed:', e.message);
  process.exit(1);
});
