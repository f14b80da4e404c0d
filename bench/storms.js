#!/usr/bin/env node
/**
 * Storm benchmarks (`npm run bench`; issue 15 "Performance"). Prints figures; never fails on a time.
 *
 * Each storm runs against a fresh built server (its own process, default limits unless said), with a
 * bystander logged in to a room of its own beating `hb` every ~20 ms; the load comes from a child process
 * (`bench/storms.js --load <storm> <port>`) so its work does not delay the bystander's timers.
 *
 *  pageLoads  1,000 page loads at once: script (br) then its map on one connection each, read at full
 *             speed (time to serve them all), then 1,000 slow readers (16 KiB every 50 ms), then 1,000
 *             reloads (If-None-Match: 304)
 *  fragments  40 room and 40 media sockets each send 16,000 fragments of a message that never ends
 *  relays     30 sockets each send 90 relay requests at once to a business server answering in 1.5 s
 *  nat        1,000 users behind one address log in on both planes at once, then all close
 *
 * Reported per storm: the bystander's hb round trip during the storm (p50, p99, max; goal: under 50 ms),
 * the worst event-loop stall (healthz eventLoop.maxMs), server RSS at start, at peak, 5 s and 15 s after
 * the storm ended (goal: 15 s after - start under 10 MiB), and the storm's own figures.
 *
 * BENCH_STORMS=pageLoads,nat picks storms; BENCH_SERVER_NODE_ARGS adds node flags to the server.
 * BENCH_PIN=1 gives the server core 0 and the load generator, the bystander and the business server
 * core 1 (taskset), so that what the bystander measures is the server, not the two fighting for a core.
 */
const { execFileSync, fork } = require('node:child_process');
const { createServer, request, Agent } = require('node:http');
const { join } = require('node:path');
const WebSocket = require('ws');
const { pct, startBuiltServer } = require('./lib');

const ROOT = join(__dirname, '..');
const APPID = 1234567;
const APPSIGN = 'ab'.repeat(32);
const HB_EVERY_MS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');
const PIN = process.env.BENCH_PIN === '1';
/** BENCH_PIN: a process onto one core. */
const pin = (pid, core) =>
  PIN && execFileSync('taskset', ['-cp', String(core), String(pid)], { stdio: 'ignore' });
const mib = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} MiB` : 'n/a');

// ------------------------------------------------------------------------------------------- shared

let mint;
const token = (idName) => {
  mint ??= require(join(ROOT, 'dist', 'server', 'index.js')).mintLoginToken;
  return mint({ appid: APPID, appSign: APPSIGN, idName, ttlS: 3600 });
};

/** A raw room (or media) socket that logs in; resolves with it, or rejects with the reply. */
function login(port, plane, idName, room, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${plane}`, {
      perMessageDeflate: false,
      localAddress,
      handshakeTimeout: 30_000,
    });
    const t = setTimeout(
      () => (ws.terminate(), reject(new Error(`${plane} login: no answer in 30 s`))),
      30_000,
    );
    ws.on('error', (e) => (clearTimeout(t), reject(e)));
    ws.once('message', (d) => {
      clearTimeout(t);
      const m = JSON.parse(String(d));
      const ok = plane === '/ws' ? m.body.err_code === 0 : m.body.result === 0;
      if (ok) return resolve({ ws, session: m });
      ws.terminate();
      reject(new Error(`${plane} login: ${JSON.stringify(m.body)}`));
    });
    ws.once('open', () => {
      if (plane === '/ws')
        ws.send(
          JSON.stringify({
            header: { Protocol: 'req', cmd: 'login', appid: APPID, seq: 1, session_id: '', room_id: room },
            body: {
              id_name: idName,
              nick_name: idName,
              role: 2,
              token: token(idName),
              version: '1.12.5',
              room_name: room,
              user_state_flag: 0,
              room_create_flag: 1,
              client_type: 3,
              third_token: '',
            },
          }),
        );
      else
        ws.send(
          JSON.stringify({
            header: {
              version: '1.0.1',
              cmd: 'LoginReq',
              appid: APPID,
              seq: 1,
              user_id: idName,
              session_id: 0,
            },
            body: { token: token(idName), roomid: room },
          }),
        );
    });
  });
}

// ------------------------------------------------------------------------------------ load generators

/** GET path on a kept-alive agent; `slow` reads 16 KiB every 50 ms. Resolves with the body size. */
function get(port, path, agent, { localAddress, headers = {}, slow = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        localAddress,
        headers: { 'accept-encoding': 'gzip, deflate, br', ...headers },
      },
      (res) => {
        let n = 0;
        if (slow) {
          res.pause();
          const tick = setInterval(() => {
            let chunk;
            let got = 0;
            while (got < 16384 && (chunk = res.read()) !== null) got += chunk.length;
            n += got;
          }, 50);
          res.on('end', () => (clearInterval(tick), resolve({ status: res.statusCode, bytes: n })));
          res.on('readable', () => {});
        } else {
          res.on('data', (c) => (n += c.length));
          res.on('end', () => resolve({ status: res.statusCode, bytes: n }));
        }
        res.on('error', reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error('no answer in 120 s')));
    req.on('error', reject);
    req.end();
  });
}

const ADDRESSES = ['127.0.0.60', '127.0.0.61', '127.0.0.62', '127.0.0.63'];

async function loadPageLoads(port) {
  const out = {};
  const pages = async (slow, headers = () => ({})) => {
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const localAddress = ADDRESSES[i % ADDRESSES.length];
        try {
          const script = await get(port, '/ZegoClient.js', agent, {
            localAddress,
            slow,
            headers: headers('js'),
          });
          const map = await get(port, '/ZegoClient.js.map', agent, {
            localAddress,
            slow,
            headers: headers('map'),
          });
          return {
            ok: [200, 304].includes(script.status) && [200, 304].includes(map.status),
            bytes: script.bytes + map.bytes,
            status: script.status,
          };
        } catch (e) {
          return { ok: false, bytes: 0, error: e.message };
        } finally {
          agent.destroy();
        }
      }),
    );
    return {
      ms: performance.now() - t0,
      ok: results.filter((r) => r.ok).length,
      statuses: [...new Set(results.map((r) => r.status))],
      kib: results.reduce((n, r) => n + r.bytes, 0) / 1024,
      errors: results
        .filter((r) => r.error)
        .slice(0, 3)
        .map((r) => r.error),
    };
  };
  out.fast = await pages(false);
  await sleep(1000);
  out.slow = await pages(true);
  await sleep(1000);
  // The tags the server gave: reloads send them back.
  const tags = {};
  for (const [k, p] of [
    ['js', '/ZegoClient.js'],
    ['map', '/ZegoClient.js.map'],
  ])
    tags[k] = await new Promise((resolve) =>
      request(
        { host: '127.0.0.1', port, path: p, headers: { 'accept-encoding': 'gzip, deflate, br' } },
        (res) => {
          res.resume();
          resolve(res.headers.etag);
        },
      ).end(),
    );
  out.reload = await pages(false, (k) => (tags[k] ? { 'if-none-match': tags[k] } : {}));
  return out;
}

async function loadFragments(port) {
  const codes = {};
  let sent = 0;
  await Promise.all(
    ['/ws', '/media'].flatMap((plane) =>
      Array.from(
        { length: 40 },
        () =>
          new Promise((resolve) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}${plane}`, { perMessageDeflate: false });
            const t = setTimeout(() => (ws.terminate(), resolve()), 30_000);
            ws.on('error', () => {});
            ws.on('close', (c) => ((codes[c] = (codes[c] || 0) + 1), clearTimeout(t), resolve()));
            ws.on('open', () => {
              let k = 0;
              const pump = () => {
                for (let j = 0; j < 500 && k < 16_000 && ws.readyState === WebSocket.OPEN; j++, k++, sent++)
                  ws.send(k === 0 ? '{' : 'x', { fin: false });
                if (k < 16_000 && ws.readyState === WebSocket.OPEN) setTimeout(pump, 0);
              };
              pump();
            });
          }),
      ),
    ),
  );
  return { closes: codes, fragmentsSent: sent };
}

async function loadRelays(port) {
  const users = await Promise.all(
    Array.from({ length: 30 }, (_, i) => login(port, '/ws', `relay-${i}`, `relay-room-${i % 3}`)),
  );
  const answers = { ok: 0, busy: 0, other: 0 };
  let slowestBusy = 0;
  await Promise.all(
    users.map(
      ({ ws, session }) =>
        new Promise((resolve) => {
          const sent = new Map();
          ws.on('message', (d) => {
            const m = JSON.parse(String(d));
            const at = sent.get(m.header.seq);
            if (at === undefined) return;
            sent.delete(m.header.seq);
            const code = m.body.err_code;
            if (code === 0) answers.ok++;
            else if (code === 1000000004) {
              answers.busy++;
              slowestBusy = Math.max(slowestBusy, performance.now() - at);
            } else answers.other++;
            if (sent.size === 0) resolve();
          });
          const h = session.header;
          for (let i = 0; i < 90; i++) {
            const seq = 10 + i;
            sent.set(seq, performance.now());
            ws.send(
              JSON.stringify({
                header: { ...h, Protocol: 'req', cmd: 'relay', seq },
                body: { relay_type: 't', relay_data: `d${i}` },
              }),
            );
          }
          setTimeout(resolve, 20_000);
        }),
    ),
  );
  for (const { ws } of users) ws.close();
  return { ...answers, slowestBusyMs: Math.round(slowestBusy) };
}

async function loadNat(port) {
  const t0 = performance.now();
  const socks = [];
  let failed = 0;
  await Promise.all(
    Array.from({ length: 1000 }, async (_, i) => {
      try {
        socks.push((await login(port, '/ws', `pupil-${i}`, `class-${i % 30}`, '127.0.0.50')).ws);
        socks.push((await login(port, '/media', `pupil-${i}`, `class-${i % 30}`, '127.0.0.50')).ws);
      } catch {
        failed++;
      }
    }),
  );
  const took = performance.now() - t0;
  await sleep(1000);
  for (const ws of socks) ws.terminate();
  return { loggedIn: socks.length, failed, ms: Math.round(took) };
}

const LOADS = { pageLoads: loadPageLoads, fragments: loadFragments, relays: loadRelays, nat: loadNat };

// ------------------------------------------------------------------------------------------- parent

/** A business server answering after `ms`, in its own process; reports how many it held at once. */
function business(ms) {
  const child = fork(join(__dirname, 'storms.js'), ['--business', String(ms)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) =>
    child.once('message', (port) =>
      resolve({
        port,
        pid: child.pid,
        stats: () => new Promise((r) => (child.once('message', r), child.send('stats'))),
        stop: () => child.kill(),
      }),
    ),
  );
}

async function bystander(port) {
  const { ws, session } = await login(port, '/ws', 'bystander', 'bench-bystander');
  const pending = new Map();
  const b = { window: null, errors: 0, seq: 1 };
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    const at = pending.get(m.header.seq);
    if (at === undefined) return;
    pending.delete(m.header.seq);
    if (m.body.err_code !== 0) b.errors++;
    b.window?.push(performance.now() - at);
  });
  const timer = setInterval(() => {
    const seq = ++b.seq;
    pending.set(seq, performance.now());
    ws.send(
      JSON.stringify({
        header: { ...session.header, Protocol: 'req', cmd: 'hb', seq },
        body: { reserve: 0 },
      }),
    );
  }, HB_EVERY_MS);
  b.unanswered = () => [...pending.values()].filter((at) => performance.now() - at > 2000).length;
  b.stop = () => (clearInterval(timer), ws.close());
  return b;
}

async function runStorm(name) {
  const biz = name === 'relays' ? await business(1500) : null;
  const srv = await startBuiltServer(
    {
      apps: [
        {
          appid: APPID,
          appSign: APPSIGN,
          ...(biz ? { relayUrl: `http://127.0.0.1:${biz.port}/relay` } : {}),
        },
      ],
      // An unreachable external Janus: the media plane is up (logins), nothing is spawned.
      janus: { urls: ['ws://127.0.0.1:1'], startTimeoutMs: 100 },
      turn: { enabled: false },
      room: { heartbeatMs: 30_000 },
      log: { level: 'warn' },
    },
    { stdio: 'pipe', timeoutMs: 15_000 },
  );
  try {
    pin(srv.pid, 0);
    pin(process.pid, 1);
    if (biz) pin(biz.pid, 1);
    const by = await bystander(srv.port);
    // The server has loaded and compressed its files, the bystander is in: the start.
    await sleep(3000);
    const h0 = await srv.health();
    by.window = [];
    const samples = [];
    let done = false;
    const sampler = (async () => {
      while (!done) {
        samples.push(await srv.health().catch(() => null));
        await sleep(200);
      }
    })();
    const t0 = performance.now();
    const load = await new Promise((resolve, reject) => {
      const child = fork(join(__dirname, 'storms.js'), ['--load', name, String(srv.port)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      pin(child.pid, 1);
      child.once('message', resolve);
      child.once('exit', (code) => (code ? reject(new Error(`load generator exited ${code}`)) : null));
    });
    const wall = performance.now() - t0;
    done = true;
    await sampler;
    const during = by.window;
    by.window = null;
    const unanswered = by.unanswered();
    await sleep(5000);
    const h5 = await srv.health();
    // The server collects after a storm (QuietCollector: at once, and a follow-up ~10 s later).
    await sleep(10_000);
    const h1 = await srv.health();
    by.stop();
    const rssPeak = Math.max(h0.memory.rssMiB, ...samples.map((s) => s?.memory?.rssMiB ?? 0));
    const loopMax = Math.max(...samples.map((s) => s?.eventLoop?.maxMs ?? 0), h1.eventLoop.maxMs);
    console.log(`\nstorm ${name} (${(wall / 1000).toFixed(1)} s)`);
    console.log(
      `  bystander hb round trip (${during.length} beats): p50 ${ms(pct(during, 50))}, p99 ${ms(pct(during, 99))}, ` +
        `max ${ms(Math.max(...during))}; unanswered > 2 s: ${unanswered}; errors ${by.errors}   [goal: under 50 ms]`,
    );
    console.log(
      `  worst event-loop stall since start: ${ms(loopMax)} (${ms(h0.eventLoop.maxMs)} before the storm)`,
    );
    console.log(
      `  server RSS: start ${mib(h0.memory.rssMiB)}, peak ${mib(rssPeak)}, 5 s after ${mib(h5.memory.rssMiB)}, ` +
        `15 s after ${mib(h1.memory.rssMiB)}: after - start ${mib(h1.memory.rssMiB - h0.memory.rssMiB)}   ` +
        `[goal: under 10 MiB] (full GCs after the storm: ${h1.memory.gcAfterStorms})`,
    );
    if (name === 'pageLoads')
      for (const [k, v] of Object.entries(load))
        console.log(
          `  ${k === 'fast' ? '1,000 loads, full speed' : k === 'slow' ? '1,000 slow readers' : '1,000 reloads'}: ` +
            `${v.ok} of 1000 served (status ${v.statuses.join('/')}) in ${(v.ms / 1000).toFixed(2)} s, ` +
            `${(v.kib / 1024).toFixed(1)} MiB${v.errors.length ? `; errors: ${v.errors.join('; ')}` : ''}`,
        );
    else console.log(`  load: ${JSON.stringify(load)}`);
    if (biz)
      console.log(`  business server: ${JSON.stringify(await biz.stats())} (at most 8 per socket: 240)`);
    console.log(
      `  connections: ${JSON.stringify(h1.connections)}; unfinished: ${JSON.stringify(h1.unfinishedMessages)}`,
    );
  } finally {
    await srv.stop();
    biz?.stop();
  }
}

async function main() {
  const names = (process.env.BENCH_STORMS || Object.keys(LOADS).join(',')).split(',');
  console.log(
    `storm benchmarks: node ${process.version}, storms ${names.join(', ')}` +
      (PIN ? ' (server on core 0, everything else on core 1)' : ''),
  );
  for (const n of names) await runStorm(n);
}

if (process.argv[2] === '--load') {
  LOADS[process.argv[3]](Number(process.argv[4])).then(
    (stats) => process.send(stats, () => process.exit(0)),
    (e) => (console.error(e), process.exit(1)),
  );
} else if (process.argv[2] === '--business') {
  let inFlight = 0;
  let maxInFlight = 0;
  let served = 0;
  const server = createServer((req, res) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    req.resume();
    setTimeout(() => (inFlight--, served++, res.end('"ok"')), Number(process.argv[3]));
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('message', () => process.send({ maxInFlight, served }));
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
