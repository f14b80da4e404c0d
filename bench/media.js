#!/usr/bin/env node
/**
 * Media-plane benchmarks (`npm run bench`, second part). Runs inside scripts/netns.sh: the built server as
 * a child process with its own Janus, real Chromium (fake camera, 640x480 VP8), pages driving
 * dist/ZegoClient.js, beside a raw janode baseline measured in the same run on the same Janus (no SDK,
 * no server of ours: bench/mediaBaseline.js). Prints figures; never fails on a time.
 *  1. startPublishingStream -> onPublishStateUpdate(0) vs raw publish -> webrtcup, and
 *     startPlayingStream -> first decoded frame vs raw subscribe -> first decoded frame (getStats polled
 *     every 20 ms): p50/p95 over BENCH_MEDIA_RUNS (10) runs, ours and raw interleaved
 *  2. The keyframe experiment (raw only): subscribe -> first frame with no keyframe request of ours, one
 *     at the subscriber's webrtcup, one right after joinSubscriber, both; on a stream live for a while
 *     and on one just published
 *  3. Streams already live: startPlayingStream -> first decoded frame beside raw subscribe -> first frame,
 *     and a viewer's whole path, zg.login call -> first decoded frame (fresh page), beside raw relay
 *     connect -> first decoded frame
 *  4. Janus CPU at 8 viewers of one stream (per viewer), from /proc/<pid>/stat over 10 s
 *  5. 100 publish/stop cycles: Janus handles and sessions left, Janus RSS before/after
 */
const { readFileSync } = require('node:fs');
const { loadavg } = require('node:os');

const { pct, freePort, rssKb, startBuiltServer, requireNetns, launchBenchChromium } = require('./lib');
const { startRawRelay, rawPage, pageCode } = require('./mediaBaseline');

const APPID = 1739272706;
const RUNS = Number(process.env.BENCH_MEDIA_RUNS || 10);
const CYCLES = Number(process.env.BENCH_MEDIA_CYCLES || 100);

const ms = (x) => `${x.toFixed(0)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
/**
 * Our server's VideoRoom settings (src/server/media/JanusGateway.ts room()), used for the raw room too so
 * the SFU configuration is not a difference between the two sides.
 */
const ROOM_SETTINGS = {
  max_publishers: 64,
  bitrate: 0,
  fir_freq: 2,
  videocodec: 'h264,vp8',
  audiocodec: 'opus',
  notify_joining: false,
};

async function startServer() {
  // A fixed Janus WebSocket port, so the raw baseline's relay can reach the Janus our server spawned
  // (/healthz does not say where it listens).
  const janusPort = await freePort();
  const srv = await startBuiltServer(
    {
      log: { level: process.env.BENCH_LOG || 'warn' },
      janus: {
        interface: '127.0.0.2',
        iceEnforceList: '127.0.0.2',
        rtpPortRange: process.env.BENCH_RTP || '20000-20100',
        wsPort: janusPort,
      },
    },
    { janus: true },
  );
  return { ...srv, janusUrl: `ws://127.0.0.1:${janusPort}` };
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

/**
 * A viewer's whole path to a stream already live, on a fresh page with the script loaded and a token in
 * hand: from the zg.login call to the first decoded frame of `streamId`, played as soon as login succeeds
 * with the stream in its list. Returns { login, frame } in ms from the login call.
 */
async function timeViewerPath(context, url, idName, streamId) {
  const p = await context.newPage();
  try {
    await p.goto(`${url}/healthz`);
    await p.setContent('<!doctype html><html><body></body></html>');
    await p.addScriptTag({ url: '/ZegoClient.js' });
    const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${idName}`)).text();
    return await p.evaluate(
      ({ appid, idName, token, ws, streamId }) =>
        new Promise((resolve, reject) => {
          const zg = new window.ZegoClient();
          window.zg = zg;
          zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3 });
          const v = document.createElement('video');
          v.muted = true;
          v.autoplay = true;
          document.body.appendChild(v);
          const t0 = performance.now();
          const end = t0 + 20_000;
          let login = 0;
          let playAt = 0;
          const poll = async () => {
            const pc = zg.engine.media.players.get(streamId)?.session.pc;
            if (pc) {
              let frames = 0;
              (await pc.getStats()).forEach((s) => {
                if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
              });
              if (frames > 0)
                return resolve({
                  login,
                  frame: performance.now() - t0,
                  // The player's step timeline, shifted to ms from the login call.
                  steps: zg.engine.media.players
                    .get(streamId)
                    .session.timeline.slice(1)
                    .map(([step, t]) => [step, t + playAt]),
                });
            }
            if (performance.now() > end) return reject(new Error('viewer path: no frame in 20 s'));
            setTimeout(poll, 20);
          };
          zg.login(
            'bench-media',
            2,
            token,
            (list) => {
              login = performance.now() - t0;
              playAt = login;
              if (!list.some((s) => s.stream_id === streamId))
                return reject(new Error(`viewer path: ${streamId} not in the login stream list`));
              if (!zg.startPlayingStream(streamId, v, undefined, { videoDecodeType: 'VP8' }))
                return reject(new Error('startPlayingStream false'));
              poll();
            },
            (e) => reject(new Error(`viewer login: ${JSON.stringify(e)}`)),
          );
        }),
      { appid: APPID, idName, token, ws: url.replace('http', 'ws') + '/ws', streamId },
    );
  } finally {
    await p.evaluate(() => window.zg && window.zg.logout()).catch(() => undefined);
    await p.close();
  }
}

/** The raw counterpart: fresh page, from opening the relay socket to the first decoded frame of `feed`. */
async function rawViewerPath(context, url, relayUrl, feed) {
  const p = await context.newPage();
  try {
    await p.goto(`${url}/healthz`);
    await p.setContent('<!doctype html><html><body></body></html>');
    await p.evaluate(pageCode, relayUrl);
    return await p.evaluate(async (feed) => {
      const t0 = performance.now();
      await window.raw.connect();
      const connect = performance.now() - t0;
      const r = await window.raw.subscribe(feed, 'a', 20_000, t0);
      return { login: connect, frame: r.ms };
    }, feed);
  } finally {
    await p.close();
  }
}

const rawPublish = (rp) => rp.evaluate(() => window.raw.publish());
const rawSubscribe = (rs, feed, mode) => rs.evaluate(([f, m]) => window.raw.subscribe(f, m), [feed, mode]);
const rawLeave = (page, hid) => page.evaluate((h) => window.raw.leave(h), hid);
const median = (xs) => pct(xs, 50);
const fig = (xs) => `p50 ${ms(pct(xs, 50))}  p95 ${ms(pct(xs, 95))}`;
/** Median of one mark over several raw results ('-' if a run lacked it). */
const markMedian = (rs, k) => {
  const xs = rs.map((r) => r.marks[k]).filter((x) => x !== undefined);
  return xs.length ? ms(median(xs)) : '-';
};
/** One mark over several raw results, as a space-separated list (counters per run). */
const perRun = (rs, k) => rs.map((r) => r.marks[k] ?? '-').join(' ');
const vs = (ours, raw) => {
  const o = median(ours);
  const r = median(raw);
  return `p50 ${o - r >= 0 ? '+' : ''}${(o - r).toFixed(0)} ms, x${(o / r).toFixed(2)}; p95 ${(pct(ours, 95) - pct(raw, 95)).toFixed(0)} ms`;
};
/** Median time of each step over several SDK timelines ([step, ms][] each), in first-seen order. */
const stepMedians = (lines) => {
  const steps = new Map();
  for (const line of lines.filter(Boolean))
    for (const [step, t] of line) {
      if (!steps.has(step)) steps.set(step, []);
      steps.get(step).push(t);
    }
  return [...steps]
    .map(
      ([step, ts]) =>
        `${step} ${median(ts).toFixed(0)}${ts.length < lines.length ? ` (${ts.length} runs)` : ''}`,
    )
    .join(', ');
};
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

(async () => {
  requireNetns('bench/media.js');
  const srv = await startServer();
  const relay = await startRawRelay(srv.janusUrl, ROOM_SETTINGS);
  const browser = await launchBenchChromium();
  try {
    const context = await browser.newContext();
    console.log(
      `media-plane bench: node ${process.version}, Chromium ${browser.version()} fake camera 640x480, VP8, loopback in a netns; load average ${load()}`,
    );
    console.log(
      'raw baseline: janode relay in the bench process on the same Janus (our server spawned it), a room with our room settings, plain RTCPeerConnection pages, same browser',
    );
    const a = await page(context, srv.url, 'bench-pub');
    const b = await page(context, srv.url, 'bench-view');
    if (process.env.BENCH_DEBUG) {
      await b.evaluate(() => (window.BENCH_DEBUG = true));
      b.on('console', (m) => m.text().startsWith('timeline') && console.log(m.text()));
    }
    // The legacy default preview is 640x480 at 15 fps; BENCH_FPS=20 matches the prototype's capture.
    const fps = Number(process.env.BENCH_FPS || 15);
    const oursSettings = await a.evaluate(
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
          window.zg.startPreview(v, c, () => resolve(v.srcObject.getVideoTracks()[0].getSettings()), reject);
        }),
      fps,
    );
    // The raw pages: one publishes (its capture made once, as our preview), one subscribes.
    const rp = await context.newPage();
    await rp.goto(`${srv.url}/healthz`);
    await rp.setContent('<!doctype html><html><body></body></html>');
    await rawPage(rp, relay.url);
    const rawCap = await rp.evaluate((fps) => window.raw.capture(fps), fps);
    const rs = await context.newPage();
    await rs.goto(`${srv.url}/healthz`);
    await rs.setContent('<!doctype html><html><body></body></html>');
    await rawPage(rs, relay.url);
    const size = (s) => `${s.width}x${s.height}@${s.frameRate}`;
    console.log(
      `publisher capture asked 640x480 at ${fps} fps: ours ${size(oursSettings)}, raw ${size(rawCap.settings)} (raw getUserMedia ${ms(rawCap.ms)}, outside the publish figures like our preview)`,
    );

    // 1. Ours and raw, interleaved (the order flips every run so drift hits both alike).
    const pubTimes = [];
    const playTimes = [];
    const rawPubs = [];
    const rawSubs = [];
    let rawCodec = '';
    const pubLines = [];
    const playLines = [];
    // The SDK's own step timeline of a stream (ms from its start), read before the stream is stopped.
    const timeline = (page, kind, id) =>
      page.evaluate(
        ([kind, id]) => window.zg.engine.media[kind].get(id)?.session.timeline.slice(1),
        [kind, id],
      );
    const ours = async (i) => {
      const id = `run-${i}`;
      pubTimes.push(await timePublish(a, id));
      if (process.env.BENCH_DEBUG) console.log('published', id, pubTimes[pubTimes.length - 1]);
      pubLines.push(await timeline(a, 'publishers', id));
      playTimes.push(await timeFirstFrame(b, id));
      playLines.push(await timeline(b, 'players', id));
      await b.evaluate((id) => window.zg.stopPlayingStream(id), id);
      await a.evaluate((id) => window.zg.stopPublishingStream(id), id);
    };
    const raw = async () => {
      const pub = await rawPublish(rp);
      rawPubs.push(pub);
      rawCodec ||= await rp.evaluate((h) => window.raw.sentCodec(h), pub.hid);
      const sub = await rawSubscribe(rs, pub.feed, 'a');
      rawSubs.push(sub);
      await rawLeave(rs, sub.hid);
      await rawLeave(rp, pub.hid);
    };
    for (let i = 0; i < RUNS; i++) {
      if (i % 2 === 0) {
        await ours(i);
        await sleep(200);
        await raw();
      } else {
        await raw();
        await sleep(200);
        await ours(i);
      }
      await sleep(200);
    }
    const rawPubTimes = rawPubs.map((r) => r.ms);
    const rawSubTimes = rawSubs.map((r) => r.ms);
    console.log(`\n1. ours vs raw janode, ${RUNS} runs each, interleaved (raw sends ${rawCodec || '?'})`);
    console.log(`  startPublishingStream -> onPublishStateUpdate(0):  ${fig(pubTimes)}`);
    console.log(
      `  raw publish -> webrtcup:                          ${fig(rawPubTimes)}  (median marks: answer ${markMedian(rawPubs, 'answer')}, page ICE connected ${markMedian(rawPubs, 'ice')})`,
    );
    console.log(`  difference ours - raw:                            ${vs(pubTimes, rawPubTimes)}`);
    console.log(`  startPlayingStream -> first decoded frame:        ${fig(playTimes)}`);
    console.log(
      `  raw subscribe -> first decoded frame:             ${fig(rawSubTimes)}  (median marks: offer ${markMedian(rawSubs, 'offer')}, start acked ${markMedian(rawSubs, 'started')}, webrtcup ${markMedian(rawSubs, 'webrtcup')}, first video packet seen in getStats ${markMedian(rawSubs, 'firstPacket')})`,
    );
    console.log(
      `  difference ours - raw:                            ${vs(playTimes, rawSubTimes)}  (goal: p50 within raw + 30 ms)`,
    );
    console.log(`  our publish steps (median ms from the call): ${stepMedians(pubLines)}`);
    console.log(`  our play steps (median ms from the call):    ${stepMedians(playLines)}`);
    console.log(`  raw runs, subscribe ms: ${rawSubTimes.map((x) => x.toFixed(0)).join(' ')}`);
    console.log(`  our runs, play ms:      ${playTimes.map((x) => x.toFixed(0)).join(' ')}`);

    // 2. The keyframe experiment, raw only. Modes rotate within each run.
    const MODES = ['a', 'b', 'c', 'd'];
    const MODE_NAMES = {
      a: 'no keyframe request of ours',
      b: 'keyframe at subscriber webrtcup',
      c: 'keyframe right after joinSubscriber',
      d: 'both (c then b)',
    };
    const rotate = (i) => MODES.map((_, k) => MODES[(i + k) % MODES.length]);
    const kfLive = Object.fromEntries(MODES.map((m) => [m, []]));
    const kfFresh = Object.fromEntries(MODES.map((m) => [m, []]));
    const counters = (hid) => rp.evaluate((h) => window.raw.pubCounters(h), hid);
    /** Subscribes and records, with the time, what the publisher received and encoded meanwhile. */
    const kfSubscribe = async (pubHid, feed, mode) => {
      const c0 = await counters(pubHid);
      const sub = await rawSubscribe(rs, feed, mode);
      const c1 = await counters(pubHid);
      sub.marks.pubPli = c1.pli + c1.fir - c0.pli - c0.fir;
      sub.marks.pubKeyframes = c1.keyframes - c0.keyframes;
      return sub;
    };
    const live = await rawPublish(rp);
    await sleep(1500);
    for (let i = 0; i < RUNS; i++)
      for (const mode of rotate(i)) {
        const sub = await kfSubscribe(live.hid, live.feed, mode);
        kfLive[mode].push(sub);
        await rawLeave(rs, sub.hid);
        await sleep(300);
      }
    for (let i = 0; i < RUNS; i++)
      for (const mode of rotate(i)) {
        const pub = await rawPublish(rp);
        const sub = await kfSubscribe(pub.hid, pub.feed, mode);
        kfFresh[mode].push(sub);
        await rawLeave(rs, sub.hid);
        await rawLeave(rp, pub.hid);
        await sleep(200);
      }
    console.log(
      `\n2. keyframe experiment (raw, subscribe -> first decoded frame, ${RUNS} runs per mode, room fir_freq ${ROOM_SETTINGS.fir_freq} s)`,
    );
    for (const [title, set] of [
      ['stream live for a while (one publisher, subscriptions 300 ms apart)', kfLive],
      ['stream just published (subscribe at the publisher webrtcup)', kfFresh],
    ]) {
      console.log(`  ${title}:`);
      for (const m of MODES) {
        const xs = set[m].map((r) => r.ms);
        console.log(
          `    (${m}) ${MODE_NAMES[m].padEnd(38)} ${fig(xs)}  min ${ms(Math.min(...xs))} max ${ms(Math.max(...xs))}  (median webrtcup ${markMedian(set[m], 'webrtcup')}, first video packet seen ${markMedian(set[m], 'firstPacket')})`,
        );
        console.log(
          `        per run, ms: ${xs.map((x) => x.toFixed(0)).join(' ')}; until the frame the publisher got PLI/FIR ${perRun(set[m], 'pubPli')}, encoded keyframes ${perRun(set[m], 'pubKeyframes')}; the subscriber sent PLIs ${perRun(set[m], 'ownPli')}`,
        );
      }
    }

    // 3. Streams already live: play on a logged-in page, then a viewer's whole path; ours and raw interleaved.
    await timePublish(a, 'live-ours');
    await sleep(1500);
    const liveOurs = [];
    const liveRaw = [];
    for (let i = 0; i < RUNS; i++) {
      const o = async () => {
        liveOurs.push(await timeFirstFrame(b, 'live-ours'));
        await b.evaluate(() => window.zg.stopPlayingStream('live-ours'));
      };
      const r = async () => {
        const sub = await rawSubscribe(rs, live.feed, 'a');
        liveRaw.push(sub.ms);
        await rawLeave(rs, sub.hid);
      };
      if (i % 2 === 0) {
        await o();
        await sleep(300);
        await r();
      } else {
        await r();
        await sleep(300);
        await o();
      }
      await sleep(300);
    }
    const pathOurs = [];
    const pathRaw = [];
    for (let i = 0; i < RUNS; i++) {
      const o = () => timeViewerPath(context, srv.url, `bench-login-${i}`, 'live-ours');
      const r = () => rawViewerPath(context, srv.url, relay.url, live.feed);
      if (i % 2 === 0) {
        pathOurs.push(await o());
        pathRaw.push(await r());
      } else {
        pathRaw.push(await r());
        pathOurs.push(await o());
      }
      await sleep(200);
    }
    await a.evaluate(() => window.zg.stopPublishingStream('live-ours'));
    await rawLeave(rp, live.hid);
    console.log(`\n3. streams already live (published 1.5 s or more before), ${RUNS} runs each, interleaved`);
    console.log(`  startPlayingStream -> first decoded frame:        ${fig(liveOurs)}`);
    console.log(`  raw subscribe -> first decoded frame:             ${fig(liveRaw)}`);
    console.log(`  difference ours - raw:                            ${vs(liveOurs, liveRaw)}`);
    console.log(`  a viewer's whole path (fresh page):`);
    console.log(
      `  zg.login call -> first decoded frame:             ${fig(pathOurs.map((x) => x.frame))}  (login success ${fig(pathOurs.map((x) => x.login))}; goal <= 250 ms)`,
    );
    console.log(
      `  its play steps (median ms from the login call): ${stepMedians(pathOurs.map((x) => x.steps))}`,
    );
    console.log(
      `  raw relay connect -> first decoded frame:         ${fig(pathRaw.map((x) => x.frame))}  (socket open ${fig(pathRaw.map((x) => x.login))})`,
    );
    console.log(
      `  difference ours - raw:                            ${vs(
        pathOurs.map((x) => x.frame),
        pathRaw.map((x) => x.frame),
      )}`,
    );
    await rp.close();
    await rs.close();
    await relay.close();
    console.log(`\nload average after the comparisons: ${load()}`);

    // 4. Janus CPU: publisher alone, then 8 viewers.
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

    // 5. Leak check: publish/stop cycles.
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
    await relay.close().catch(() => undefined);
    await srv.stop();
  }
})().catch((e) => {
  console.error('media bench failed:', e.message);
  process.exit(1);
});
