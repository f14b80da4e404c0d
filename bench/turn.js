#!/usr/bin/env node
/**
 * TURN benchmarks (`npm run bench`). Runs inside scripts/netns.sh: the built server with its own Janus and
 * coturn, real Chromium (fake camera, 640x480 VP8) driving dist/ZegoClient.js. Prints figures; never fails
 * on a time.
 *  1. startPlayingStream -> first decoded frame, direct (UDP to Janus) beside relay-only through TURN over
 *     UDP, TCP and TLS, each on a server of its own in the same run (p50/p95 over BENCH_TURN_RUNS, 8), with
 *     the ratio to direct (goal: each within 1.3x)
 *  2. coturn CPU per relayed 640x480 stream: one publisher and BENCH_TURN_VIEWERS (4) viewers relayed over
 *     UDP, /proc/<pid>/stat over 10 s
 */
const { readFileSync, mkdtempSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { X509Certificate, createHash } = require('node:crypto');
const { generate } = require('selfsigned');
const { pct, startBuiltServer, requireNetns, launchBenchChromium } = require('./lib');

const APPID = 1739272706;
const RUNS = Number(process.env.BENCH_TURN_RUNS || 8);
const VIEWERS = Number(process.env.BENCH_TURN_VIEWERS || 4);
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};

async function page(context, url, idName) {
  const p = await context.newPage();
  await p.goto(`${url}/healthz`);
  await p.setContent('<!doctype html><html><body><video id="local" muted autoplay></video></body></html>');
  await p.addScriptTag({ url: '/ZegoClient.js' });
  const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${idName}`)).text();
  await p.evaluate(
    ({ appid, idName, token, ws }) =>
      new Promise((resolve, reject) => {
        const zg = new window.ZegoClient();
        window.zg = zg;
        window.states = [];
        zg.onPublishStateUpdate = (t, id) => window.states.push({ kind: 'pub', t, id });
        zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3 });
        zg.login('bench-turn', 1, token, resolve, (e) => reject(new Error(JSON.stringify(e))));
      }),
    { appid: APPID, idName, token, ws: url.replace('http', 'ws') + '/ws' },
  );
  return p;
}

async function publish(p, streamId) {
  await p.evaluate(
    (streamId) =>
      new Promise((resolve, reject) => {
        const v = document.getElementById('local');
        window.zg.startPreview(
          v,
          { audio: true, video: true },
          () => {
            window.zg.startPublishingStream(streamId, v, '', { videoDecodeType: 'VP8' });
            const poll = () => {
              const s = window.states.find((x) => x.kind === 'pub' && x.id === streamId);
              if (!s) return setTimeout(poll, 5);
              return s.t === 0 ? resolve() : reject(new Error(`publish state ${s.t}`));
            };
            poll();
          },
          reject,
        );
        setTimeout(() => reject(new Error('publish timeout')), 20_000);
      }),
    streamId,
  );
}

/** ms from startPlayingStream to the first decoded frame, and the selected pair's local candidate. */
async function firstFrame(p, streamId) {
  return p.evaluate(
    (streamId) =>
      new Promise((resolve, reject) => {
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        document.body.appendChild(v);
        const t0 = performance.now();
        window.zg.startPlayingStream(streamId, v, undefined, { videoDecodeType: 'VP8' });
        const end = t0 + 20_000;
        const poll = async () => {
          const pc = window.zg.engine.media.players.get(streamId)?.session.pc;
          if (pc) {
            const stats = await pc.getStats();
            let frames = 0;
            let pair = '';
            stats.forEach((s) => {
              if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
              if (s.type === 'transport') pair = s.selectedCandidatePairId || '';
            });
            if (frames > 0) {
              const took = performance.now() - t0;
              const local = pair ? stats.get(stats.get(pair).localCandidateId) : null;
              window.zg.stopPlayingStream(streamId);
              v.remove();
              return resolve({
                ms: took,
                path: local ? `${local.candidateType}/${local.relayProtocol || local.protocol}` : '?',
              });
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

async function main() {
  requireNetns('bench/turn.js');
  const dir = mkdtempSync(join(tmpdir(), 'zego-bench-turn-'));
  // One certificate for every server of the run, trusted by its SPKI hash in this Chromium only.
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.private);
  const spki = createHash('sha256')
    .update(new X509Certificate(pems.cert).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  const browser = await launchBenchChromium([`--ignore-certificate-errors-spki-list=${spki}`]);
  const tls = { tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem'), port: 0, tlsPort: 0 };
  const modes = [
    ['direct', { ...tls }],
    ['TURN/UDP', { ...tls, relayOnly: true, transports: ['udp'] }],
    ['TURN/TCP', { ...tls, relayOnly: true, transports: ['tcp'] }],
    ['TURN/TLS', { ...tls, relayOnly: true, transports: ['tls'] }],
  ];
  const results = {};
  try {
    console.log(`\n== first decoded frame, ${RUNS} plays each (startPlayingStream -> framesDecoded > 0)`);
    for (const [name, turn] of modes) {
      const srv = await startBuiltServer(
        { log: { level: 'warn' }, janus: { interface: '127.0.0.2', iceEnforceList: '127.0.0.2' }, turn },
        { janus: true, stdio: 'pipe' },
      );
      const context = await browser.newContext();
      try {
        const pub = await page(context, srv.url, 'tp');
        await publish(pub, 'tb');
        const viewer = await page(context, srv.url, 'tv');
        const times = [];
        let path = '';
        for (let i = 0; i < RUNS; i++) {
          const r = await firstFrame(viewer, 'tb');
          times.push(r.ms);
          path = r.path;
          await sleep(300);
        }
        results[name] = times;
        console.log(
          `${name.padEnd(9)} p50 ${pct(times, 50).toFixed(0)} ms, p95 ${pct(times, 95).toFixed(0)} ms (path ${path})`,
        );
        if (name === 'TURN/UDP') {
          // coturn CPU with a publisher and VIEWERS viewers relayed (1 + VIEWERS relayed streams).
          const h = await srv.health();
          const views = [];
          for (let i = 0; i < VIEWERS; i++) {
            const v = await page(context, srv.url, `cv${i}`);
            await v.evaluate(() => {
              const el = document.createElement('video');
              el.muted = true;
              el.autoplay = true;
              document.body.appendChild(el);
              window.zg.startPlayingStream('tb', el, undefined, { videoDecodeType: 'VP8' });
            });
            views.push(v);
          }
          await sleep(3000);
          const hz = 100;
          const t0 = cpuTicks(h.media.turnPid);
          await sleep(10_000);
          const cpu = ((cpuTicks(h.media.turnPid) - t0) / hz / 10) * 100;
          console.log(
            `coturn CPU: ${cpu.toFixed(1)}% of a core for ${1 + VIEWERS} relayed 640x480 streams = ${(cpu / (1 + VIEWERS)).toFixed(2)}% per stream`,
          );
          for (const v of views) await v.close();
        }
      } finally {
        await context.close();
        await srv.stop();
      }
    }
    const base = pct(results.direct, 50);
    console.log('\nratio to direct (p50):');
    for (const [name] of modes.slice(1))
      console.log(`  ${name}: ${(pct(results[name], 50) / base).toFixed(2)}x (goal <= 1.3x)`);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
