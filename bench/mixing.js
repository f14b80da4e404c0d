#!/usr/bin/env node
/* global Blob -- page-side code (page.evaluate) */
/**
 * The client-side CPU of audio effects and mixing (issue 11), inside scripts/netns.sh:
 *   bash scripts/netns.sh node bench/mixing.js
 * The built server with its Janus as a child process, one headless Chromium (fake camera 640x480 at 15
 * fps, fake microphone; BENCH_AUDIO_ONLY=1: the microphone alone), BENCH_PUBLISHERS tabs (default 2)
 * each publishing through dist/ZegoClient.js.
 * Chromium's CPU (every process, from the DevTools SystemInfo domain) over BENCH_SECONDS (default 10) in
 * four states: publishing plainly; a looping effect (playEffect) on every stream; an <audio> mixed in
 * (startMixingAudio) on every stream; both. Prints the CPU per publisher (% of one core) and the ratio to
 * the plain publish. Prints figures; never fails on a time.
 */
const { startBuiltServer, requireNetns, launchBenchChromium } = require('./lib');

const APPID = 1739272706;
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS || 2);
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const AUDIO_ONLY = process.env.BENCH_AUDIO_ONLY === '1';
const sleep = (t) => new Promise((r) => setTimeout(r, t));

async function startServer() {
  return startBuiltServer(
    {
      log: { level: 'warn' },
      janus: { interface: '127.0.0.2', iceEnforceList: '127.0.0.2', rtpPortRange: '20000-20100' },
    },
    { janus: true },
  );
}

/** A logged-in tab publishing `streamId` (camera + microphone, 640x480 at 15 fps). */
async function publisher(context, url, streamId) {
  const p = await context.newPage();
  await p.goto(`${url}/healthz`);
  await p.setContent('<!doctype html><html><body></body></html>');
  await p.addScriptTag({ url: '/ZegoClient.js' });
  const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${streamId}`)).text();
  await p.evaluate(
    ({ appid, token, ws, streamId, audioOnly }) =>
      new Promise((resolve, reject) => {
        const zg = new window.ZegoClient();
        window.zg = zg;
        zg.config({ appid, idName: streamId, nickName: streamId, server: ws, logLevel: 3 });
        zg.onPublishStateUpdate = (t, id, e) =>
          t === 0 ? resolve() : reject(new Error(`publish ${id}: ${JSON.stringify(e)}`));
        zg.login(
          'bench-mixing',
          1,
          token,
          () => {
            const v = document.createElement('video');
            v.id = 'local';
            v.muted = true;
            document.body.appendChild(v);
            const c = audioOnly
              ? { audio: true, video: false }
              : { audio: true, video: true, videoQuality: 4, width: 640, height: 480, frameRate: 15 };
            zg.startPreview(v, c, () => zg.startPublishingStream(streamId, v), reject);
          },
          reject,
        );
        setTimeout(() => reject(new Error('publish timeout')), 20_000);
      }),
    { appid: APPID, token, ws: url.replace('http', 'ws') + '/ws', streamId, audioOnly: AUDIO_ONLY },
  );
  // A tone file for the effect and the <audio> element (1 s, looped).
  await p.evaluate(
    (streamId) =>
      new Promise((resolve, reject) => {
        const rate = 48000;
        const n = rate;
        const buf = new ArrayBuffer(44 + n * 2);
        const v = new DataView(buf);
        const str = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
        str(0, 'RIFF');
        v.setUint32(4, 36 + n * 2, true);
        str(8, 'WAVEfmt ');
        v.setUint32(16, 16, true);
        v.setUint16(20, 1, true);
        v.setUint16(22, 1, true);
        v.setUint32(24, rate, true);
        v.setUint32(28, rate * 2, true);
        v.setUint16(32, 2, true);
        v.setUint16(34, 16, true);
        str(36, 'data');
        v.setUint32(40, n * 2, true);
        for (let i = 0; i < n; i++)
          v.setInt16(44 + i * 2, 16000 * Math.sin((2 * Math.PI * 1000 * i) / rate), true);
        window.toneUrl = URL.createObjectURL(new Blob([buf], { type: 'audio/wav' }));
        const a = document.createElement('audio');
        a.id = 'music';
        a.loop = true;
        a.src = window.toneUrl;
        document.body.appendChild(a);
        window.zg.preloadEffect(1, window.toneUrl, (e) => (e ? reject(new Error(String(e))) : resolve()));
        window.streamId = streamId;
      }),
    streamId,
  );
  return p;
}

(async () => {
  requireNetns('bench/mixing.js');
  const srv = await startServer();
  const browser = await launchBenchChromium();
  try {
    const context = await browser.newContext();
    const pages = [];
    for (let i = 0; i < PUBLISHERS; i++) pages.push(await publisher(context, srv.url, `mix-${i}`));
    const cdp = await browser.newBrowserCDPSession();
    const cpuSeconds = async () =>
      (await cdp.send('SystemInfo.getProcessInfo')).processInfo.reduce((s, p) => s + p.cpuTime, 0);
    /** % of one core per publisher over SECONDS, after 2 s to settle. */
    const measure = async () => {
      await sleep(2000);
      const c0 = await cpuSeconds();
      await sleep(SECONDS * 1000);
      return (((await cpuSeconds()) - c0) / SECONDS / PUBLISHERS) * 100;
    };
    const all = (fn) => Promise.all(pages.map((p) => p.evaluate(fn)));
    console.log(
      `mixing bench: ${PUBLISHERS} publishers (${AUDIO_ONLY ? 'microphone only' : '640x480 at 15 fps + microphone'}) in one headless Chromium, ${SECONDS} s per state, Chromium CPU (all processes)`,
    );
    const plain = await measure();
    const row = (name, v) =>
      console.log(
        `  ${name.padEnd(34)} ${v.toFixed(1).padStart(5)}% of a core per publisher  x${(v / plain).toFixed(2)}`,
      );
    row('plain publish', plain);
    await all(() => window.zg.playEffect({ streamId: window.streamId, effectId: 1, loop: true }));
    row('+ looping effect (playEffect)', await measure());
    await all(() => window.zg.stopMixingAudio(window.streamId));
    await all(async () => {
      const a = document.getElementById('music');
      await a.play();
      window.zg.startMixingAudio(window.streamId, a, false);
    });
    row('+ <audio> mixed (startMixingAudio)', await measure());
    await all(() => window.zg.playEffect({ streamId: window.streamId, effectId: 1, loop: true }));
    row('+ both', await measure());
    await all(() => {
      window.zg.stopMixingAudio(window.streamId);
      document.getElementById('music').pause();
    });
    row('mixing stopped, <audio> paused', await measure());
  } finally {
    await browser.close();
    await srv.stop();
  }
})().catch((e) => {
  console.error('mixing bench failed:', e.message);
  process.exit(1);
});
