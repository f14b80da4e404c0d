#!/usr/bin/env node
/* global AudioContext, MediaStream -- page-side code (page.evaluate) */
/**
 * Server-side mixing and CDN relay (issue 17), inside scripts/netns.sh:
 *   bash scripts/netns.sh node bench/mixStream.js
 * Two canvas publishers (640x360 at 25 fps; the first draws the page clock as 24 black/white blocks) are
 * mixed side by side into 640x360 at 15 fps. Prints: glass-to-output latency (clock drawn in the canvas ->
 * the frame decoded from the RTMP output, median and p90), the CPU of one mix task's ffmpeg, of one relay
 * remuxing H.264 and of one transcoding VP8 (% of one core, /proc over BENCH_SECONDS, default 10), and how
 * many mix tasks run at real time at once (each output's frames over 10 s >= 93% of its fps; up to
 * BENCH_MAX_TASKS, default 6). Prints figures; never fails on a time.
 */
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const http = require('node:http');
const { startBuiltServer, requireNetns, launchBenchChromium } = require('./lib');

const APPID = 1739272706;
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const MAX_TASKS = Number(process.env.BENCH_MAX_TASKS || 6);
const W = 640;
const H = 360;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}
async function cpuPct(pid, seconds) {
  const a = cpuTicks(pid);
  await sleep(seconds * 1000);
  return ((cpuTicks(pid) - a) / 100 / seconds) * 100;
}

async function publisher(context, url, id, o) {
  const p = await context.newPage();
  await p.goto(`${url}/healthz`);
  await p.setContent('<!doctype html><html><body></body></html>');
  await p.addScriptTag({ url: '/ZegoClient.js' });
  const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${id}`)).text();
  await p.evaluate(
    ({ appid, token, ws, id, o, W, H }) =>
      new Promise((resolve, reject) => {
        const zg = new window.ZegoClient();
        window.zg = zg;
        zg.config({ appid, idName: id, nickName: id, server: ws, logLevel: 3 });
        zg.onPublishStateUpdate = (t, s, e) =>
          t === 0 ? resolve() : reject(new Error(`publish ${s}: ${JSON.stringify(e)}`));
        zg.login(
          'bench-mix',
          1,
          token,
          () => {
            const c = document.createElement('canvas');
            c.width = W;
            c.height = H;
            const ctx = c.getContext('2d');
            setInterval(() => {
              ctx.fillStyle = o.color;
              ctx.fillRect(0, 0, W, H);
              if (o.timecode) {
                const t = Date.now() & 0xffffff;
                for (let b = 0; b < 24; b++) {
                  ctx.fillStyle = (t >> (23 - b)) & 1 ? '#fff' : '#000';
                  ctx.fillRect((b * W) / 24, 0, W / 24, H / 4);
                }
              }
            }, 10);
            const ac = new AudioContext();
            const osc = ac.createOscillator();
            const dst = ac.createMediaStreamDestination();
            osc.connect(dst);
            osc.start();
            const s = new MediaStream([
              ...c.captureStream(25).getVideoTracks(),
              ...dst.stream.getAudioTracks(),
            ]);
            const v = document.createElement('video');
            v.muted = true;
            document.body.appendChild(v);
            zg.startPreview(
              v,
              { externalMediaStream: s, width: W, height: H, frameRate: 25, bitrate: 800 },
              () => zg.startPublishingStream(id, v, '', { videoDecodeType: o.codec }),
              reject,
            );
          },
          reject,
        );
        setTimeout(() => reject(new Error('publish timeout')), 20_000);
      }),
    { appid: APPID, token, ws: url.replace('http', 'ws') + '/ws', id, o, W, H },
  );
  return p;
}

function mix(page, output, a, b) {
  return page.evaluate(
    ({ output, a, b, W, H }) =>
      new Promise((resolve, reject) =>
        window.zg.updateMixStream(
          {
            outputStreamId: output,
            outputBitrate: 800_000,
            outputFps: 15,
            outputWidth: W,
            outputHeight: H,
            streamList: [
              { streamId: a, top: 0, left: 0, bottom: H, right: W / 2 },
              { streamId: b, top: 0, left: W / 2, bottom: H, right: W },
            ],
          },
          (id, infos) => resolve(infos[0]),
          (e) => reject(new Error(JSON.stringify(e))),
        ),
      ),
    { output, a, b, W, H },
  );
}

/** Latency samples: each decoded RTMP frame's time code against the clock when it arrived. */
function latency(rtmpUrl, seconds, codeWidth = W / 2) {
  return new Promise((resolve) => {
    const ff = spawn('ffmpeg', [
      '-v',
      'error',
      '-fflags',
      'nobuffer',
      '-flags',
      'low_delay',
      '-i',
      rtmpUrl,
      '-an',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-s',
      `${W}x${H}`,
      'pipe:1',
    ]);
    const frame = W * H;
    let buf = Buffer.alloc(0);
    const samples = [];
    const started = Date.now();
    ff.stdout.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= frame) {
        const f = buf.subarray(0, frame);
        buf = buf.subarray(frame);
        if (Date.now() - started < 3000) continue; // warm-up
        let code = 0;
        for (let b = 0; b < 24; b++) {
          const x = Math.floor(((b + 0.5) * codeWidth) / 24);
          code = (code << 1) | (f[45 * W + x] > 128 ? 1 : 0);
        }
        samples.push(((Date.now() & 0xffffff) - code + 0x1000000) % 0x1000000);
      }
    });
    setTimeout(
      () => {
        ff.kill('SIGKILL');
        resolve(samples.filter((s) => s < 10_000).sort((a, b) => a - b));
      },
      (seconds + 3) * 1000,
    );
  });
}

/** Video tags an HTTP-FLV output delivers in `seconds` (after a second to start). */
function flvFrames(url, seconds) {
  return new Promise((resolve) => {
    let n = 0;
    let counting = false;
    let buf = Buffer.alloc(0);
    const req = http.get(url, (res) => {
      res.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 13 && buf[0] === 0x46) buf = buf.subarray(13);
        while (buf.length >= 11) {
          const size = buf.readUIntBE(1, 3);
          if (buf.length < 15 + size) break;
          if (buf[0] === 9 && counting) n++;
          buf = buf.subarray(15 + size);
        }
      });
    });
    req.on('error', () => resolve(0));
    setTimeout(() => (counting = true), 1000);
    setTimeout(
      () => {
        req.destroy();
        resolve(n / seconds);
      },
      (seconds + 1) * 1000,
    );
  });
}

async function main() {
  requireNetns('bench/mixStream.js');
  const server = await startBuiltServer(
    {
      log: { level: 'warn' },
      janus: { interface: '127.0.0.2', iceEnforceList: '127.0.0.2', rtpPortRange: '20000-20100' },
      relay: { all: false },
      mix: { maxTasksPerApp: 16 },
    },
    { janus: true, stdio: 'pipe' },
  );
  const browser = await launchBenchChromium();
  try {
    const context = await browser.newContext();
    const a = await publisher(context, server.url, 'benchA', {
      color: '#f00',
      timecode: true,
      codec: 'H264',
    });
    await publisher(context, server.url, 'benchB', { color: '#00f', codec: 'H264' });
    const info = await mix(a, 'benchmix0', 'benchA', 'benchB');
    await sleep(4000);
    const report = async (what, url, codeWidth) => {
      const lat = await latency(url, SECONDS, codeWidth);
      const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))];
      console.log(
        `glass-to-output latency (${what}, ${lat.length} frames): median ${q(0.5)} ms, p90 ${q(0.9)} ms`,
      );
    };
    await report('mix, RTMP', info.rtmpUrls[0]);
    await report('mix, HTTP-FLV', info.flvUrls[0]);
    const live = async () => (await server.health()).live;
    const rtmpPort = (await live()).rtmpPort;
    await a.evaluate(
      (u) =>
        new Promise((r, j) =>
          window.zg.publishTarget({ streamId: 'benchA', type: 'addpush', pushUrl: u }, r, j),
        ),
      `rtmp://127.0.0.1:${rtmpPort}/live/remux`,
    );
    await sleep(4000);
    await report('remux relay of one publisher, RTMP', `rtmp://127.0.0.1:${rtmpPort}/live/remux`, W);
    if (process.env.BENCH_LATENCY_ONLY) return;
    const task = (await live()).mixTasks[0];
    console.log(
      `one mix task (2 inputs, 640x360@15, x264 ultrafast): ffmpeg ${(await cpuPct(task.ffmpegPid, SECONDS)).toFixed(1)}% of one core`,
    );
    const rtmp = (await live()).rtmpPort;

    const c = await publisher(context, server.url, 'benchC', { color: '#0f0', codec: 'VP8' });
    await c.evaluate(
      (u) =>
        new Promise((r, j) =>
          window.zg.publishTarget({ streamId: 'benchC', type: 'addpush', pushUrl: u }, r, j),
        ),
      `rtmp://127.0.0.1:${rtmp}/live/transcode`,
    );
    await sleep(3000);
    const relays = (await live()).relays;
    const pidOf = (t) => relays.find((r) => r.target === t)?.ffmpegPid;
    const [remux, trans] = await Promise.all([
      cpuPct(pidOf('origin:remux'), SECONDS),
      cpuPct(pidOf('origin:transcode'), SECONDS),
    ]);
    console.log(
      `one relay: remux (H.264 copied, Opus->AAC) ${remux.toFixed(1)}%, transcode (VP8->H.264 640x360) ${trans.toFixed(1)}% of one core`,
    );
    await c.close();
    // Concurrent tasks: add one at a time; each output must keep >= 95% of its 15 fps.
    let realTime = 1;
    const outputs = [info.flvUrls[0]];
    for (let k = 2; k <= MAX_TASKS; k++) {
      outputs.push((await mix(a, `benchmix${k - 1}`, 'benchA', 'benchB')).flvUrls[0]);
      await sleep(4000);
      const fps = await Promise.all(outputs.map((u) => flvFrames(u, 10)));
      const ok = fps.every((f) => f >= 15 * 0.93);
      console.log(
        `${k} mix tasks: output fps ${fps.map((f) => f.toFixed(1)).join(', ')} -> ${ok ? 'real time' : 'behind'}`,
      );
      if (!ok) break;
      realTime = k;
    }
    console.log(
      `concurrent 640x360 two-input mix tasks at real time on this machine: ${realTime}${realTime === MAX_TASKS ? '+' : ''}`,
    );
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
