/**
 * The client-offer play bridge (issue 16), inside scripts/netns.sh, with the built server, its Janus and
 * its bridge worker; figures only, never a pass/fail:
 *  1. First frame, in the same run: a shim viewer (the server offers, Janus direct) beside an original-SDK
 *     viewer (webrtc-zego 1.12.5 offering, relay-only lifted as in spec/helpers/originalPage.ts), played
 *     alternately; ms from startPlayingStream to the first decoded frame (getStats every 20 ms).
 *  2. CPU per bridged viewer (% of one core, /proc/<pid>/stat over 10 s): the bridge worker with 0 and with
 *     8 original-SDK viewers in Chromium, beside Janus's CPU for 8 shim viewers.
 *  3. How many bridged viewers one core holds: synthetic viewers (werift in this process, offering
 *     recvonly as the original does, no decoding) at 20 and 50, the worker's CPU per viewer, extrapolated.
 * Env: BENCH_BRIDGE_RUNS (first-frame pairs, default 8), BENCH_BRIDGE_SYNTH (default "20,50").
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const WebSocket = require('ws');
const { pct, requireNetns, launchBenchChromium, startBuiltServer } = require('./lib');

const APPID = 1739272706;
const RUNS = Number(process.env.BENCH_BRIDGE_RUNS || 8);
const SYNTH = (process.env.BENCH_BRIDGE_SYNTH || '20,50').split(',').map(Number);
const ORIGINAL = readFileSync(join(__dirname, '..', 'node_modules', 'webrtc-zego', 'jZego-rtc.js'), 'utf8');
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const hz = 100;

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}
async function cpuOver(pids, secs) {
  const c0 = pids.map(cpuTicks);
  await sleep(secs * 1000);
  return pids.map((p, i) => ((cpuTicks(p) - c0[i]) / hz / secs) * 100);
}

/** Lifts relay-only (no TURN here) and records peer connections, as spec/helpers/originalPage.ts. */
const INIT = `(() => {
  const Native = window.RTCPeerConnection; const pcs = []; window.__pcs = pcs;
  const W = function (cfg) {
    let c = cfg;
    if (cfg) c = { ...cfg, iceTransportPolicy: 'all', iceServers: (cfg.iceServers || [])
      .map((s) => ({ ...s, urls: [].concat(s.urls || []).filter(Boolean) })).filter((s) => s.urls.length) };
    const pc = new Native(c); pcs.push(pc); return pc;
  };
  W.prototype = Native.prototype; window.RTCPeerConnection = W;
})();`;

async function page(context, url, idName, flavour) {
  const p = await context.newPage();
  if (flavour === 'original') await p.addInitScript(INIT);
  await p.goto(`${url}/healthz`);
  await p.setContent('<!doctype html><html><body></body></html>');
  if (flavour === 'shim') await p.addScriptTag({ url: '/ZegoClient.js' });
  else await p.addScriptTag({ content: ORIGINAL });
  const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${idName}`)).text();
  await p.evaluate(
    ({ appid, idName, token, ws, role }) =>
      new Promise((resolve, reject) => {
        const zg = new window.ZegoClient();
        window.zg = zg;
        zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3, remoteLogLevel: 100 });
        zg.login('bench-bridge', role, token, resolve, (e) => reject(new Error(JSON.stringify(e))));
      }),
    { appid: APPID, idName, token, ws: url.replace('http', 'ws') + '/ws', role: flavour === 'shim' ? 1 : 2 },
  );
  return p;
}

/** ms from startPlayingStream to the first decoded frame, on either SDK. */
function timeFirstFrame(p, streamId, flavour) {
  return p.evaluate(
    ({ streamId, flavour }) =>
      new Promise((resolve, reject) => {
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        document.body.appendChild(v);
        const t0 = performance.now();
        let state0 = 0;
        window.zg.onPlayStateUpdate = (t) => t === 0 && !state0 && (state0 = performance.now() - t0);
        const opt = flavour === 'shim' ? { videoDecodeType: 'VP8' } : {};
        if (!window.zg.startPlayingStream(streamId, v, undefined, opt))
          return reject(new Error('play false'));
        const pcs = () =>
          flavour === 'shim'
            ? [window.zg.engine.media.players.get(streamId)?.session.pc].filter(Boolean)
            : window.__pcs.filter((x) => x.connectionState !== 'closed');
        let dtls = 0;
        let packet = 0;
        const poll = async () => {
          let frames = 0;
          for (const pc of pcs()) {
            if (!dtls && pc.connectionState === 'connected') dtls = performance.now() - t0;
            (await pc.getStats()).forEach((s) => {
              if (s.type === 'inbound-rtp' && s.kind === 'video') {
                frames += s.framesDecoded || 0;
                if (!packet && s.packetsReceived) packet = performance.now() - t0;
              }
            });
          }
          if (frames > 0) return resolve({ frame: performance.now() - t0, state0, dtls, packet });
          if (performance.now() - t0 > 20_000) return reject(new Error(`no frame (${flavour})`));
          setTimeout(poll, 20);
        };
        poll();
      }),
    { streamId, flavour },
  );
}

/** A synthetic original-style viewer: room + media login, negotiate_mode 0, werift offers recvonly. */
async function synthViewer(url, idName, streamId) {
  const { RTCPeerConnection } = require('werift');
  const token = await (await fetch(`${url}/token?app_id=${APPID}&id_name=${idName}`)).text();
  const room = new WebSocket(url.replace('http', 'ws') + '/ws');
  await new Promise((r, j) => (room.once('open', r), room.once('error', j)));
  const roomLogin = new Promise((r) => room.once('message', r));
  room.send(
    JSON.stringify({
      header: {
        Protocol: 'req',
        cmd: 'login',
        appid: APPID,
        seq: 1,
        user_id: '',
        session_id: '',
        room_id: 'bench-bridge',
      },
      body: {
        id_name: idName,
        nick_name: idName,
        role: 2,
        token,
        version: '1.12.5',
        room_name: 'bench-bridge',
        user_state_flag: 0,
        room_create_flag: 1,
        client_type: 3,
        third_token: '',
      },
    }),
  );
  await roomLogin;
  const m = new WebSocket(url.replace('http', 'ws') + '/media');
  await new Promise((r, j) => (m.once('open', r), m.once('error', j)));
  let seq = 0;
  const waits = [];
  m.on('message', (d) => {
    const f = JSON.parse(d.toString());
    for (const w of waits.splice(0)) if (!w(f)) waits.push(w);
  });
  const next = (pred) => new Promise((r) => waits.push((f) => (pred(f) ? (r(f), true) : false)));
  const send = (cmd, body, sid = 0) => {
    const s = ++seq;
    m.send(
      JSON.stringify({
        header: { version: '1.0.1', cmd, appid: String(APPID), seq: s, user_id: idName, session_id: sid },
        body,
      }),
    );
    return next((f) => f.header.seq === s && f.header.cmd.endsWith('Rsp'));
  };
  await send('LoginReq', { token, roomid: 'bench-bridge' });
  const c = await send('CreateSessionReq', { type: 1, stream_id: streamId, negotiate_mode: 0 });
  if (c.body.result !== 0) throw new Error(`synthetic viewer: ${JSON.stringify(c.body)}`);
  const sid = c.body.session_id;
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  let packets = 0;
  pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => packets++));
  const answer = next((f) => f.header.cmd === 'MediaDescPush' && f.header.session_id === sid);
  const cands = next((f) => f.header.cmd === 'CandidateInfoPush' && f.header.session_id === sid);
  await pc.setLocalDescription(await pc.createOffer());
  const d = await send('MediaDescReq', { type: 0, sdp: pc.localDescription.sdp }, sid);
  if (d.body.result !== 0) throw new Error(`synthetic offer: ${JSON.stringify(d.body)}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: (await answer).body.sdp });
  for (const i of (await cands).body.infos) await pc.addIceCandidate(i);
  const hb = setInterval(() => send('ClientHBReq', { session_ids: [sid] }), 5000);
  return {
    packets: () => packets,
    close: async () => (clearInterval(hb), await pc.close(), m.close(), room.close()),
  };
}

async function main() {
  requireNetns('bench/bridge.js');
  const srv = await startBuiltServer(
    {
      log: { level: 'warn' },
      janus: { interface: '127.0.0.2', iceEnforceList: '127.0.0.2' },
      bridge: { maxViewers: 500, maxViewersPerUser: 500 },
    },
    { janus: true },
  );
  const browser = await launchBenchChromium();
  const closers = [];
  try {
    const context = await browser.newContext();
    const pub = await page(context, srv.url, 'bb-pub', 'shim');
    await pub.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const v = document.createElement('video');
          v.id = 'local';
          v.muted = true;
          document.body.appendChild(v);
          window.zg.onPublishStateUpdate = (t) => (t === 0 ? resolve() : reject(new Error(`publish ${t}`)));
          window.zg.startPreview(
            v,
            { audio: true, video: true },
            () => window.zg.startPublishingStream('bb', v, '', { videoDecodeType: 'VP8' }),
            reject,
          );
        }),
    );
    await sleep(1000);
    // 1. First frame, alternating so both see the same publisher state.
    const shim = [];
    const orig = [];
    const shim0 = [];
    const orig0 = [];
    for (let i = 0; i < RUNS; i++) {
      for (const flavour of i % 2 ? ['original', 'shim'] : ['shim', 'original']) {
        const p = await page(context, srv.url, `bb-${flavour}-${i}`, flavour);
        const t = await timeFirstFrame(p, 'bb', flavour);
        (flavour === 'shim' ? shim : orig).push(t.frame);
        (flavour === 'shim' ? shim0 : orig0).push(t.state0);
        if (process.env.BENCH_DEBUG) console.log(flavour, JSON.stringify(t));
        await p.close();
        await sleep(300);
      }
    }
    const med = (xs) => pct(xs, 50);
    console.log(
      `first frame (ms, ${RUNS} each, same run): shim viewer median ${med(shim).toFixed(0)} p90 ${pct(shim, 90).toFixed(0)}; ` +
        `original viewer (bridge) median ${med(orig).toFixed(0)} p90 ${pct(orig, 90).toFixed(0)}; ratio ${(med(orig) / med(shim)).toFixed(2)}x (goal <= 1.5x); ` +
        `onPlayStateUpdate(0) median: shim ${med(shim0).toFixed(0)}, original ${med(orig0).toFixed(0)}`,
    );
    if (process.env.BENCH_BRIDGE_FRAME_ONLY) return;
    // 2. CPU per viewer with real pages.
    const h = await srv.health();
    const bridgePid = h.media.bridgePid;
    const janusPid = h.media.janusPid;
    const [bridgeIdle, janusIdle] = await cpuOver([bridgePid, janusPid], 10);
    const views = [];
    for (let i = 0; i < 8; i++) {
      const p = await page(context, srv.url, `bb-cpu-o${i}`, 'original');
      await timeFirstFrame(p, 'bb', 'original');
      views.push(p);
    }
    const [bridge8, janus8] = await cpuOver([bridgePid, janusPid], 10);
    for (const p of views.splice(0)) await p.close();
    for (let i = 0; i < 8; i++) {
      const p = await page(context, srv.url, `bb-cpu-s${i}`, 'shim');
      await timeFirstFrame(p, 'bb', 'shim');
      views.push(p);
    }
    const [, janusShim8] = await cpuOver([bridgePid, janusPid], 10);
    for (const p of views.splice(0)) await p.close();
    console.log(
      `CPU (% of one core, 10 s): bridge worker idle ${bridgeIdle.toFixed(1)}%, 8 original viewers ${bridge8.toFixed(1)}% -> ` +
        `${((bridge8 - bridgeIdle) / 8).toFixed(2)}% per bridged viewer (goal < 2%); Janus with them ${janus8.toFixed(1)}% (one subscription); ` +
        `Janus with 8 shim viewers ${janusShim8.toFixed(1)}% -> ${((janusShim8 - janusIdle) / 8).toFixed(2)}% per shim viewer (Janus idle ${janusIdle.toFixed(1)}%)`,
    );
    // 3. Synthetic viewers: the worker's CPU per viewer at higher counts.
    await sleep(1500);
    const [base] = await cpuOver([bridgePid], 5);
    for (const n of SYNTH) {
      const vs = [];
      for (let i = 0; i < n; i++) vs.push(await synthViewer(srv.url, `bb-syn-${n}-${i}`, 'bb'));
      closers.push(...vs.map((v) => v.close));
      await sleep(3000);
      const p0 = vs.map((v) => v.packets());
      const [cpu] = await cpuOver([bridgePid], 10);
      const flowing = vs.filter((v, i) => v.packets() > p0[i] + 100).length;
      const per = (cpu - base) / n;
      const hw = await srv.health();
      console.log(
        `${n} synthetic bridged viewers (werift, no decoding): ${flowing}/${n} receiving, bridge worker ${cpu.toFixed(1)}% -> ` +
          `${per.toFixed(2)}% per viewer -> about ${Math.floor(100 / per)} viewers per core; worker RSS ${(
            Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${bridgePid}/status`, 'utf8'))[1]) / 1024
          ).toFixed(0)} MiB; packets out ${hw.media.bridgeWorker?.packetsOut}`,
      );
      // Bounded: a werift close that hangs must not hold the run.
      await Promise.race([Promise.all(vs.map((v) => v.close().catch(() => {}))), sleep(5000)]);
      closers.length = 0;
      await sleep(1500);
    }
  } finally {
    for (const c of closers) await c().catch(() => {});
    await browser.close();
    await srv.stop();
  }
}

// werift keeps timers of closed synthetic viewers alive: exit once the figures are out.
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
