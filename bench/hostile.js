#!/usr/bin/env node
/**
 * Hostile-load benchmark (`npm run bench`; issue 7 "Performance"). Prints figures; never fails on a time.
 *
 * The built server runs as its own process (janus disabled). A bystander, logged in to a room of its own,
 * beats `hb` every ~20 ms and times each round trip. Then 2,000 WebSocket connections, none of them
 * logged in, together send 100,000 malformed frames as fast as they can (non-JSON and binary frames,
 * wrong shapes and types, 3,500-deep nesting, unknown commands, commands before login), while /healthz is
 * sampled for the event-loop delay since start (eventLoop.maxMs, p99Ms) and RSS (memory.rssMiB).
 *
 * Reported: the worst event-loop stall, the bystander's round trips during the storm (p50, p99, max,
 * unanswered), and server RSS at start, at peak, ~5 s and ~15 s after every hostile connection closed.
 *
 * The load generator runs in a child process (`bench/hostile.js --load <port> <connections> <frames>`),
 * so that its own work does not delay the bystander's timers and skew its round trips.
 *
 * BENCH_HOSTILE_CONNECTIONS / BENCH_HOSTILE_FRAMES change the 2,000 / 100,000; BENCH_SERVER_NODE_ARGS adds
 * node flags to the server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
const { fork } = require('node:child_process');
const { join } = require('node:path');
const WebSocket = require('ws');

const { readFileSync } = require('node:fs');
const { pct, rssKb, startBuiltServer } = require('./lib');

/** CPU seconds a process has used (user + system), from /proc. */
function cpuS(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const ROOT = join(__dirname, '..');
const APPID = 1234567;
const APPSIGN = 'ab'.repeat(32);
const CONNECTIONS = Number(process.env.BENCH_HOSTILE_CONNECTIONS || 2000);
const FRAMES = Number(process.env.BENCH_HOSTILE_FRAMES || 100_000);
const HB_EVERY_MS = 20;
const HANDSHAKES_AT_ONCE = 200;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');
const mib = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} MiB` : 'n/a');

// ------------------------------------------------------------------------------------- load generator

/** The frames of one hostile connection: at most 8 unreadable ones (10 get a socket closed 4004). */
function hostileFrames(i, n) {
  const deep = '['.repeat(3500) + ']'.repeat(3500);
  const deepObj = '{"a":'.repeat(3500) + '0' + '}'.repeat(3500);
  const pool = [
    // unreadable: not JSON, binary, no header object
    () => ({ data: 'not json at all' }),
    () => ({ data: '{"header":' }),
    () => ({ data: Buffer.from([0xff, 0x00, 0x13, 0x37, i & 0xff]), binary: true }),
    () => ({ data: '' }),
    () => ({ data: `[${i},` }),
    () => ({ data: '{"body":{}}' }),
    () => ({ data: 'null' }),
    () => ({ data: '"header"' }),
  ];
  const shaped = [
    // deep nesting in the header and the body
    (s) => ({
      data: `{"header":{"Protocol":"req","cmd":"hb","seq":${s},"appid":1,"session_id":${deep}},"body":{}}`,
    }),
    (s) => ({
      data: `{"header":{"Protocol":"req","cmd":"login","seq":${s},"appid":${APPID}},"body":${deepObj}}`,
    }),
    (s) => ({ data: `{"header":{"Protocol":"req","cmd":${deep},"seq":${s}},"body":{}}` }),
    // wrong shapes and types
    (s) => ({ data: `{"header":{"cmd":["hb"],"seq":"${s}","appid":{}},"body":[]}` }),
    (s) => ({ data: `{"header":[],"body":{"seq":${s}}}` }),
    (s) => ({ data: `{"header":{"cmd":"login","seq":${s},"appid":"abc"},"body":{"id_name":1,"role":"x"}}` }),
    (s) => ({
      data: `{"header":{"cmd":"login","seq":${s},"appid":${APPID}},"body":{"id_name":"h${i}","nick_name":"","role":1,"token":"bad","version":"1","room_name":"r","user_state_flag":0,"room_create_flag":1}}`,
    }),
    (s) => ({
      data: `{"header":{"cmd":"stream","seq":${s},"appid":1e309,"__proto__":{"x":1}},"body":{"sub_cmd":"2001"}}`,
    }),
    (s) => ({
      data: `{"header":{"cmd":"bigim_chat","seq":-${s},"appid":-1},"body":{"msgs":[{"bigmsg_client_id":${deep}}]}}`,
    }),
    // unknown commands and commands before login
    (s) => ({ data: `{"header":{"Protocol":"req","cmd":"cmd${s}","seq":${s},"appid":1},"body":{}}` }),
    (s) => ({ data: `{"header":{"Protocol":"req","cmd":"hb","seq":${s},"appid":1},"body":{"reserve":0}}` }),
    (s) => ({ data: `{"header":{"Protocol":"req","cmd":"toString","seq":${s},"appid":1},"body":{}}` }),
    (s) => ({
      data: `{"header":{"Protocol":"req","cmd":"stream_info","seq":${s},"appid":1},"body":{"reserve":0}}`,
    }),
  ];
  const out = [];
  let unreadable = 0;
  for (let k = 0; k < n; k++) {
    // Every sixth frame unreadable, at most 8 per connection; the rest shaped but hostile.
    if (k % 6 === 5 && unreadable < 8) out.push(pool[(i + unreadable++) % pool.length]());
    else out.push(shaped[(i + k) % shaped.length](k + 1));
  }
  return out;
}

async function runLoad(port, connections, frames) {
  const per = Math.floor(frames / connections);
  const extra = frames - per * connections;
  const stats = { opened: 0, failed: 0, sent: 0, answers: 0, closes: {}, t0: Date.now(), tAllOpen: 0 };
  /** One hostile connection: `opened` settles at its handshake, `done` when it is closed. */
  const one = (i) => {
    let markOpened;
    const opened = new Promise((r) => (markOpened = r));
    const done = new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
        perMessageDeflate: false,
        handshakeTimeout: 20_000,
      });
      const list = hostileFrames(i, per + (i < extra ? 1 : 0));
      let sent = 0;
      let got = 0;
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        markOpened();
        resolve();
      };
      // Bounded: a connection the server neither answers nor closes is given up after 60 s.
      const t = setTimeout(() => {
        ws.terminate();
        finish();
      }, 60_000);
      ws.on('open', () => {
        stats.opened++;
        markOpened();
        for (const f of list) {
          if (ws.readyState !== WebSocket.OPEN) break;
          ws.send(f.data, { binary: !!f.binary });
          sent++;
        }
        stats.sent += sent;
      });
      ws.on('message', () => {
        stats.answers++;
        if (++got >= sent && sent === list.length) ws.close(1000);
      });
      ws.on('close', (code) => {
        stats.closes[code] = (stats.closes[code] || 0) + 1;
        finish();
      });
      ws.on('error', () => {
        if (ws.readyState !== WebSocket.OPEN) stats.failed++;
      });
    });
    return { opened, done };
  };
  // Handshakes in waves (a listen backlog of 511 would otherwise drop SYNs and add 1 s retries); each
  // connection fires all its frames the moment it is open and stays open until they are all answered.
  const all = [];
  for (let i = 0; i < connections; i += HANDSHAKES_AT_ONCE) {
    const wave = [];
    for (let j = i; j < Math.min(connections, i + HANDSHAKES_AT_ONCE); j++) {
      const c = one(j);
      wave.push(c.opened);
      all.push(c.done);
    }
    await Promise.all(wave);
  }
  stats.tAllOpen = Date.now() - stats.t0;
  await Promise.all(all);
  stats.ms = Date.now() - stats.t0;
  const cpu = process.cpuUsage();
  stats.cpuS = (cpu.user + cpu.system) / 1e6;
  return stats;
}

// ------------------------------------------------------------------------------------------- parent

async function startServer() {
  return startBuiltServer(
    {
      apps: [{ appid: APPID, appSign: APPSIGN }],
      janus: { enabled: false },
      room: { heartbeatMs: 30_000 },
      // 2,000 loopback sockets must be allowed; the bystander beats at 50/s, under the rate limit.
      limits: { maxConnectionsPerIp: 5000, maxConnections: 10_000, messagesPerSecond: 100, burst: 200 },
      log: { level: 'warn' },
    },
    { stdio: 'pipe', timeoutMs: 10_000 },
  );
}

async function health(url) {
  const ctl = new globalThis.AbortController();
  const t = setTimeout(() => ctl.abort(), 10_000);
  try {
    const r = await fetch(`${url}/healthz`, { signal: ctl.signal });
    const text = await r.text();
    try {
      return JSON.parse(text);
    } catch {
      return { status: text };
    }
  } finally {
    clearTimeout(t);
  }
}

/** A normal client in its own room: hb every ~20 ms, each round trip timed. */
async function bystander(port, mintLoginToken) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const pending = new Map();
  const b = { rtts: [], window: null, errors: 0, pushes: 0, closed: null, seq: 1, session: null };
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.header.Protocol === 'push') return void b.pushes++;
    const at = pending.get(m.header.seq);
    if (at === undefined) return;
    pending.delete(m.header.seq);
    if (m.header.cmd === 'login') return void (b.session = m);
    if (m.body.err_code !== 0) b.errors++;
    const rtt = performance.now() - at;
    b.rtts.push(rtt);
    if (b.window) b.window.push(rtt);
  });
  ws.on('close', (code) => (b.closed = code));
  const send = (cmd, body) => {
    const seq = ++b.seq;
    const s = b.session?.body;
    ws.send(
      JSON.stringify({
        header: {
          Protocol: 'req',
          cmd,
          appid: APPID,
          seq,
          user_id: s?.user_id ?? '',
          session_id: s?.session_id ?? '',
          room_id: 'bench-bystander',
        },
        body,
      }),
    );
    pending.set(seq, performance.now());
  };
  send('login', {
    id_name: 'bystander',
    nick_name: 'bystander',
    role: 2,
    token: mintLoginToken({ appid: APPID, appSign: APPSIGN, idName: 'bystander', ttlS: 3600 }),
    version: '1.12.5',
    room_name: 'bench-bystander',
    user_state_flag: 1,
    room_create_flag: 1,
    client_type: 3,
    third_token: '',
  });
  const end = Date.now() + 5000;
  while (!b.session && Date.now() < end) await sleep(10);
  if (b.session?.body?.err_code !== 0)
    throw new Error(`bystander login failed: ${JSON.stringify(b.session)}`);
  const timer = setInterval(() => send('hb', { reserve: 0 }), HB_EVERY_MS);
  b.stop = () => {
    clearInterval(timer);
    ws.close();
  };
  /** Beats sent but unanswered for more than 2 s (a 5 s wait would fail them in the original SDK). */
  b.unanswered = () => [...pending.values()].filter((at) => performance.now() - at > 2000).length;
  return b;
}

async function main() {
  const { mintLoginToken } = require(join(ROOT, 'dist', 'server', 'index.js'));
  const srv = await startServer();
  try {
    const by = await bystander(srv.port, mintLoginToken);
    await sleep(2000);
    const h0 = await health(srv.url);
    const rssStart = h0.memory?.rssMiB;
    const loopBefore = h0.eventLoop?.maxMs;
    const rssProcStart = rssKb(srv.pid) / 1024;
    const cpuStart = cpuS(srv.pid);

    by.window = [];
    const samples = [];
    let loadDone = false;
    const sampler = (async () => {
      while (!loadDone) {
        const t0 = performance.now();
        try {
          const h = await health(srv.url);
          samples.push({
            at: Date.now(),
            healthMs: performance.now() - t0,
            h,
            rssProc: rssKb(srv.pid) / 1024,
          });
        } catch {
          samples.push({ at: Date.now(), healthMs: performance.now() - t0, h: null });
        }
        await sleep(100);
      }
    })();
    const load = await new Promise((resolve, reject) => {
      const child = fork(
        join(__dirname, 'hostile.js'),
        ['--load', String(srv.port), String(CONNECTIONS), String(FRAMES)],
        {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      );
      child.once('message', resolve);
      child.once('exit', (code) => (code ? reject(new Error(`load generator exited ${code}`)) : null));
    });
    loadDone = true;
    const serverCpu = cpuS(srv.pid) - cpuStart;
    await sampler;
    const during = by.window;
    by.window = null;
    const unansweredDuring = by.unanswered();
    await sleep(5000);
    const hAfter = await health(srv.url).catch(() => null);
    const rssProcAfter = srv.child.exitCode === null ? rssKb(srv.pid) / 1024 : NaN;
    // The server collects after a storm (QuietCollector: at once, and a follow-up ~10 s later).
    await sleep(10_000);
    const hLater = await health(srv.url).catch(() => null);
    by.stop();

    const rssPeak = Math.max(rssStart ?? 0, ...samples.map((s) => s.h?.memory?.rssMiB ?? 0));
    const rssProcPeak = Math.max(rssProcStart, ...samples.map((s) => s.rssProc ?? 0));
    const loopMax = Math.max(
      loopBefore ?? 0,
      ...samples.map((s) => s.h?.eventLoop?.maxMs ?? 0),
      hAfter?.eventLoop?.maxMs ?? 0,
    );
    const loopP99 = hAfter?.eventLoop?.p99Ms ?? samples.at(-1)?.h?.eventLoop?.p99Ms;
    const worstHealth = Math.max(...samples.map((s) => s.healthMs));

    console.log(`\nHostile load: ${CONNECTIONS} WebSockets (never logged in), ${FRAMES} malformed frames`);
    console.log(
      `  load: ${load.opened} opened, ${load.failed} failed to open, ${load.sent} frames sent, ` +
        `${load.answers} answers, in ${(load.ms / 1000).toFixed(1)} s (${Math.round(load.sent / (load.ms / 1000))} frames/s; ` +
        `all opened after ${(load.tAllOpen / 1000).toFixed(1)} s); closes by code ${JSON.stringify(load.closes)}`,
    );
    console.log(
      `  CPU during the load: server ${serverCpu.toFixed(1)} s, load generator ${load.cpuS.toFixed(1)} s ` +
        `(wall ${(load.ms / 1000).toFixed(1)} s; 2 cores are shared by the server, the generator and this process)`,
    );
    console.log(
      `  worst event-loop stall (healthz eventLoop.maxMs, since start): ${ms(loopMax)} ` +
        `(${ms(loopBefore)} before the load); event-loop p99 since start: ${ms(loopP99)}; ` +
        `slowest /healthz answer during the load: ${ms(worstHealth)}`,
    );
    console.log(
      `  bystander hb round trip during the load (${during.length} beats): p50 ${ms(pct(during, 50))}, ` +
        `p99 ${ms(pct(during, 99))}, max ${ms(Math.max(...during))}; unanswered > 2 s: ${unansweredDuring}; ` +
        `error replies ${by.errors}, pushes ${by.pushes}${by.closed ? `, CLOSED ${by.closed}` : ''}`,
    );
    console.log(
      `  server RSS (healthz memory.rssMiB): start ${mib(rssStart)}, peak ${mib(rssPeak)}, ` +
        `~5 s after all closed ${mib(hAfter?.memory?.rssMiB)}, ~15 s after ${mib(hLater?.memory?.rssMiB)} ` +
        `(after - start ${mib((hLater?.memory?.rssMiB ?? NaN) - (rssStart ?? NaN))}, full GCs after the storm: ` +
        `${hLater?.memory?.gcAfterStorms ?? 'n/a'}; /proc VmRSS: ` +
        `${mib(rssProcStart)}, ${mib(rssProcPeak)}, ${mib(rssProcAfter)})`,
    );
    if (srv.child.exitCode !== null || srv.child.signalCode !== null)
      console.log(
        `  THE SERVER DIED (${srv.child.exitCode ?? srv.child.signalCode}): ${srv.errTail().slice(-1500)}`,
      );
  } finally {
    await srv.stop();
  }
}

if (process.argv[2] === '--load') {
  const [port, connections, frames] = process.argv.slice(3).map(Number);
  runLoad(port, connections, frames).then(
    (stats) => process.send(stats, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
