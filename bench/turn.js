#!/usr/bin/env node
/**
 * TURN benchmarks (`npm run bench`). Runs inside scripts/netns.sh: the built server with its own Janus and
 * coturn, real Chromium (fake camera, 640x480 VP8) driving dist/ZegoClient.js. Prints figures; never fails
 * on a time.
 *  1. startPlayingStream -> first decoded frame, direct (UDP to Janus) beside relay-only through TURN over
 *     UDP, TCP and TLS, and through the cloud proxy (setCloudProxyConfig: TURN over TLS via nginx on the
 *     proxy port), each on a server of its own in the same run (p50/p95 over BENCH_TURN_RUNS, 8), with
 *     the ratio to direct (goal: each within 1.3x)
 *  2. where the time goes: for the same plays, the p50 of each step of the viewer's peer connection after
 *     startPlayingStream (the server's offer set, the answer set, the first candidate and the first relay
 *     candidate gathered, ICE checking, ICE connected, DTLS connected, first frame), from a wrapper around
 *     RTCPeerConnection in the page
 *  3. coturn CPU per relayed 640x480 stream: one publisher and BENCH_TURN_VIEWERS (4) viewers relayed over
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

/** Records, per peer connection, when each step happened (performance.now()), in window.trace. */
function traceSteps() {
  const Orig = window.RTCPeerConnection;
  window.trace = [];
  let n = 0;
  window.RTCPeerConnection = function (config) {
    const pc = new Orig(config);
    const id = ++n;
    const mark = (what) => window.trace.push({ id, what, t: performance.now() });
    mark('pc');
    for (const m of ['setRemoteDescription', 'setLocalDescription']) {
      const f = pc[m].bind(pc);
      pc[m] = (...a) => f(...a).then((r) => (mark(m === 'setRemoteDescription' ? 'offer' : 'answer'), r));
    }
    pc.addEventListener('icecandidate', (e) =>
      mark(e.candidate ? `cand:${/ typ (\w+)/.exec(e.candidate.candidate)?.[1]}` : 'gathered'),
    );
    pc.addEventListener('iceconnectionstatechange', () => mark(`ice:${pc.iceConnectionState}`));
    pc.addEventListener('connectionstatechange', () => mark(`dtls:${pc.connectionState}`));
    return pc;
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
}

/** A page at `url` (the server, or the proxy) logged in; with `proxy`, through setCloudProxyConfig. */
async function page(context, url, idName, proxy) {
  const p = await context.newPage();
  await p.goto(`${url}/healthz`);
  await p.setContent('<!doctype html><html><body><video id="local" muted autoplay></video></body></html>');
  // BENCH_TURN_CLIENT: another build of the shim (a path), to compare two builds on the same servers.
  await p.addScriptTag(
    process.env.BENCH_TURN_CLIENT ? { path: process.env.BENCH_TURN_CLIENT } : { url: '/ZegoClient.js' },
  );
  await p.evaluate(traceSteps);
  const token = await (
    await fetch(`${proxy ? proxy.server : url}/token?app_id=${APPID}&id_name=${idName}`)
  ).text();
  await p.evaluate(
    ({ appid, idName, token, ws, proxy }) =>
      new Promise((resolve, reject) => {
        if (proxy && !window.ZegoClient.setCloudProxyConfig(proxy.list, proxy.token, true))
          reject(new Error('setCloudProxyConfig refused'));
        const zg = new window.ZegoClient();
        window.zg = zg;
        window.states = [];
        zg.onPublishStateUpdate = (t, id) => window.states.push({ kind: 'pub', t, id });
        zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3 });
        zg.login('bench-turn', 1, token, resolve, (e) => reject(new Error(JSON.stringify(e))));
      }),
    { appid: APPID, idName, token, ws: url.replace(/^http/, 'ws') + '/ws', proxy },
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

const STEPS = [
  'pc',
  'offer',
  'answer',
  'cand',
  'cand:relay',
  'ice:checking',
  'ice:connected',
  'dtls:connected',
  'rtp',
];

/**
 * ms from startPlayingStream to the first decoded frame, the selected pair's local candidate, and when
 * each step of the viewer's peer connection happened (ms after startPlayingStream).
 */
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
              if (s.type === 'inbound-rtp' && s.kind === 'video') {
                frames += s.framesDecoded || 0;
                if (s.packetsReceived > 0) window.trace.push({ what: 'rtp', t: performance.now() });
              }
              if (s.type === 'transport') pair = s.selectedCandidatePairId || '';
            });
            if (frames > 0) {
              const took = performance.now() - t0;
              const local = pair ? stats.get(stats.get(pair).localCandidateId) : null;
              const mine = window.trace.filter((e) => e.t >= t0);
              const id = mine.find((e) => e.what === 'pc')?.id;
              const steps = {};
              for (const e of mine.filter((x) => x.id === id || x.what === 'rtp')) {
                const key = e.what.startsWith('cand:') && !steps.cand ? 'cand' : e.what;
                steps[key] ??= e.t - t0;
                if (e.what.startsWith('cand:')) steps[e.what] ??= e.t - t0;
              }
              window.zg.stopPlayingStream(streamId);
              v.remove();
              return resolve({
                ms: took,
                steps,
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
    // The cloud proxy: nginx on one TLS port, TURN over TLS through it (and the signalling).
    ['proxy', { ...tls }, { enabled: true, port: 0, tlsCert: tls.tlsCert, tlsKey: tls.tlsKey }],
  ];
  const results = {};
  const stepsOf = {};
  const devAppSign = createHash('sha256').update('bench-turn').digest('hex');
  const { mintProxyToken } = require('../dist/server/index.js');
  try {
    console.log(`\n== first decoded frame, ${RUNS} plays each (startPlayingStream -> framesDecoded > 0)`);
    for (const [name, turn, proxyCfg] of modes) {
      const srv = await startBuiltServer(
        {
          log: { level: 'warn' },
          devAppSign,
          janus: { interface: '127.0.0.2', iceEnforceList: '127.0.0.2' },
          turn,
          ...(proxyCfg ? { proxy: proxyCfg } : {}),
        },
        { janus: true, stdio: 'pipe' },
      );
      const context = await browser.newContext();
      try {
        let url = srv.url;
        let proxy;
        if (proxyCfg) {
          const { port } = (await srv.health()).proxy;
          url = `https://127.0.0.1:${port}`;
          const token = mintProxyToken({ appid: APPID, appSign: devAppSign, ttlS: 600 });
          proxy = { server: srv.url, token, list: [{ hostName: '127.0.0.1', port }] };
        }
        const pub = await page(context, url, 'tp', proxy);
        await publish(pub, 'tb');
        const viewer = await page(context, url, 'tv', proxy);
        const times = [];
        const steps = [];
        let path = '';
        for (let i = 0; i < RUNS; i++) {
          const r = await firstFrame(viewer, 'tb');
          times.push(r.ms);
          steps.push(r.steps);
          path = r.path;
          await sleep(300);
        }
        results[name] = times;
        stepsOf[name] = steps;
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
    console.log('\nwhere the time goes: p50 ms after startPlayingStream, viewer peer connection');
    const cols = [...STEPS, 'frame'];
    console.log(`${''.padEnd(9)} ${cols.map((c) => c.replace(/^(ice|dtls):/, '').padStart(10)).join('')}`);
    for (const [name] of modes) {
      const at = (c, i) => (c === 'frame' ? results[name][i] : stepsOf[name][i][c]);
      const cells = cols.map((c) => {
        const v = results[name].map((_, i) => at(c, i)).filter((x) => x !== undefined);
        return (v.length ? pct(v, 50).toFixed(0) : '-').padStart(10);
      });
      console.log(`${name.padEnd(9)} ${cells.join('')}`);
    }
    console.log("  (offer/answer: the server's offer and our answer set; cand: first candidate gathered;");
    console.log('   cand:relay: first relay candidate; checking/connected: ICE; dtls connected: DTLS done;');
    console.log(
      '   rtp: first video packet seen by getStats, polled every 20 ms; frame: first frame decoded)',
    );
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
