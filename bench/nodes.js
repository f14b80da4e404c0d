#!/usr/bin/env node
/**
 * Many nodes (`node bench/nodes.js --nodes 3`, part of `npm run bench`). Prints figures; never fails on a
 * time. In one run, the same load against:
 *   - one node, rooms in memory (no Redis: the default deployment), and
 *   - N nodes sharing one Redis (the first node spawns it), clients spread round-robin over the nodes.
 * For each: logins per second (BENCH_USERS clients, 64 logging in at a time, all in one room), big-room
 * fan-out latency (send -> receipt at every client, p50/p99 over 20 rounds), CPU-seconds summed over every
 * process (the nodes and Redis) per login and per delivered big-room message, Redis commands per message,
 * and server memory per user per node (RSS delta). For the logins it also prints each process's share of
 * the CPU (every node's, then Redis's) and how much of all of it was spent in the kernel.
 * The logins start BENCH_SETTLE_MS (1500) after the nodes answer /healthz: a node just started still spends
 * about 0.25 s of CPU in the next half second, which was counted as the logins' before. BENCH_ROUNDS:
 * big-room messages (20). BENCH_BURST: logins at a time (64). BENCH_ONLY=k sends every login to node k
 * (the Redis path without spreading).
 * BENCH_RATE=R paces the logins: R per second on a fixed schedule, BURST (4 unless set) at a time, none
 * waiting for the ones before, so the processes are mostly idle and seldom compete for a core; it first
 * measures what they spend idle for BENCH_IDLE_MS (3000) and prints the login CPU less that too.
 * Every login line also gives the scheduler's account summed over every thread of every server process
 * (/proc/<pid>/task/<tid>/schedstat): CPU per login, and run-queue wait per login (time runnable but
 * waiting for a core: the contention itself), with the load average before and after.
 * BENCH_PIN_SERVERS=<cpu list> pins every server process (all threads, Redis too) with `taskset -a -cp`.
 *
 *
 * `--users N` (N = 10,000 in `npm run bench`) adds the big-room fan-out to N users beside a bare `ws`
 * broadcast: a minimal ws server (bench/fanoutBare.js) sending one frame of the same size to every socket,
 * then one node, then N nodes + Redis, each with the same client harness: client processes
 * (bench/fanoutWorker.js, 2,500 sockets each) that time every receipt against the send on the machine's
 * monotonic clock. Batching window 0 ms there (a bare broadcast has none); 2 warm-up rounds, then
 * BENCH_FANOUT_ROUNDS (20). A server holds every socket: `ulimit -n` must exceed N. `--fanout-only` runs
 * that section alone.
 *
 * This machine has 2 cores: N nodes cannot show N times the throughput here. What decides it on real
 * machines is the CPU each login and each delivered message costs summed over all processes (one node
 * beside N nodes), and how many Redis round trips a message takes.
 */
const { fork, execFileSync } = require('node:child_process');
const { readFileSync, readdirSync } = require('node:fs');
const WebSocket = require('ws');
const { join } = require('node:path');
const Redis = require('ioredis');
const { bigRoomRound, freePort, pct, rssKb, startBuiltServer, RawClient: LibRawClient } = require('./lib');

const ROOT = join(__dirname, '..');
const { mintLoginToken } = require(join(ROOT, 'dist', 'server', 'index.js'));
const APPID = 1234567;
const APPSIGN = 'ab'.repeat(32);
const USERS = Number(process.env.BENCH_USERS || 1000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS || 20));
/**
 * Paced logins: this many per second, started on a fixed schedule (BURST at a time, 4 unless set), without
 * waiting for the ones before; 0 = as fast as they go (the default, BURST 64 at a time, each burst awaited).
 */
const RATE = Number(process.env.BENCH_RATE || 0);
if (!(RATE >= 0))
  throw new Error(`BENCH_RATE must be a number of logins per second, not ${process.env.BENCH_RATE}`);
/** Logins at a time (each node gets its share of each burst). */
const BURST = Number(process.env.BENCH_BURST || (RATE > 0 ? 4 : 64));
/** Paced mode: idle time measured before the logins (ms), the CPU the processes spend doing nothing. */
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? (RATE > 0 ? 3000 : 0));
/** Idle time after the nodes start, before the logins (ms). */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 1500);
/** CPUs (a `taskset -c` list) every server process and all its threads are pinned to once up; '' = not. */
const PIN = process.env.BENCH_PIN_SERVERS || '';
/** All logins to this one node (a diagnostic: the Redis path without spreading); -1 = round-robin. */
const ONLY = process.env.BENCH_ONLY ? Number(process.env.BENCH_ONLY) : -1;
const argNodes = process.argv.indexOf('--nodes');
const NODES = argNodes > 0 ? Number(process.argv[argNodes + 1]) : 3;
const argUsers = process.argv.indexOf('--users');
/** The big-room fan-out beside a bare `ws` broadcast: this many users (0 = not run). */
const FANOUT_USERS = argUsers > 0 ? Number(process.argv[argUsers + 1]) : 0;
const FANOUT_ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS || 20);
/** Sockets per client process (several processes: the load generator must not be the bottleneck). */
const PER_WORKER = 2500;
/** A legacy-protocol client of this bench's app (bench/lib.js). */
class RawClient extends LibRawClient {
  constructor(url, idName, room, userStateFlag = 0) {
    super(url, idName, room, { appid: APPID, appSign: APPSIGN, mintLoginToken }, userStateFlag);
  }
}

/** CPU-seconds (user + system) a process has used so far. */
function cpuS(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (CLK_TCK 100)
}
/** CPU-seconds in the kernel (system time) a process has used so far. */
function sysS(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[12]) / 100;
}
const cpuAll = (pids) => pids.reduce((s, p) => s + cpuS(p), 0);
/**
 * The scheduler's account of a process, summed over its threads (/proc/<pid>/task/<tid>/schedstat):
 * ns on a CPU, ns runnable but waiting for one (run-queue wait: the contention itself), and how many
 * times a thread was put on a CPU (slices: each wake-up is one, so is each return after being preempted).
 */
function sched(pid) {
  let run = 0;
  let wait = 0;
  let slices = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [r, w, n] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      run += r;
      wait += w;
      slices += n;
    } catch {
      /* the thread has just exited */
    }
  }
  return { run, wait, slices };
}
const schedAll = (pids) =>
  pids
    .map(sched)
    .reduce((a, b) => ({ run: a.run + b.run, wait: a.wait + b.wait, slices: a.slices + b.slices }), {
      run: 0,
      wait: 0,
      slices: 0,
    });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The machine's 1-minute load average. */
const loadavg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

const config = (redis, bigimTimeWindowMs = 100) => ({
  apps: [{ appid: APPID, appSign: APPSIGN }],
  room: { bigimTimeWindowMs, heartbeatMs: 60_000, maxUsersPerRoom: 100_000 },
  janus: { enabled: false },
  limits: {
    messagesPerSecond: 1000,
    burst: 1000,
    maxConnections: 30_000,
    maxConnectionsPerIp: 30_000,
    maxSocketsPerApp: 100_000,
  },
  log: { level: 'warn' },
  ...(redis ? { redis } : {}),
});

async function startNodes(n, windowMs = 100) {
  if (n === 0)
    return { servers: [await startBuiltServer(config(null, windowMs))], redis: null, redisPid: null };
  const port = await freePort();
  const servers = [await startBuiltServer(config({ spawn: true, port }, windowMs))];
  for (let i = 1; i < n; i++)
    servers.push(await startBuiltServer(config({ url: `redis://127.0.0.1:${port}` }, windowMs)));
  const redisPid = (await servers[0].health()).nodes.redisPid;
  const redis = new Redis(`redis://127.0.0.1:${port}`);
  return { servers, redis, redisPid };
}

/** Commands Redis has processed, and script calls (a node's round trips for room steps). */
async function redisCommands(redis) {
  if (!redis) return { all: 0, scripts: 0 };
  const stats = await redis.info('stats');
  const cmds = await redis.info('commandstats');
  const calls = (name) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(cmds)?.[1] ?? 0);
  const each = {};
  for (const m of cmds.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) each[m[1]] = Number(m[2]);
  return {
    all: Number(/total_commands_processed:(\d+)/.exec(stats)[1]),
    scripts: calls('evalsha') + calls('eval'),
    each,
  };
}

/** Per command, how many more calls `b` counts than `a`, divided by `n` (the busiest first). */
function perCommand(a, b, n) {
  return Object.entries(b.each ?? {})
    .map(([k, v]) => [k, (v - (a.each?.[k] ?? 0)) / n])
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}

async function run(label, n) {
  const { servers, redis, redisPid } = await startNodes(n);
  // A node that has just answered /healthz still spends ~0.25 s of CPU in the next half second (start-up):
  // not the logins' cost, so they start once it is done.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const pids = [...servers.map((s) => s.pid), ...(redisPid ? [redisPid] : [])];
  if (PIN) for (const p of pids) execFileSync('taskset', ['-a', '-cp', PIN, String(p)], { stdio: 'ignore' });
  const urls = servers.map((s) => `ws://127.0.0.1:${s.port}/ws`);
  const rss0 = servers.map((s) => rssKb(s.pid));
  const clients = [];
  // Paced mode: what the processes spend idle (lease beats, timers), per second, on the scheduler's clock.
  let idleMsPerS = 0;
  if (IDLE_MS > 0) {
    const s0 = schedAll(pids).run;
    const ti = performance.now();
    await sleep(IDLE_MS);
    idleMsPerS = (schedAll(pids).run - s0) / 1e6 / ((performance.now() - ti) / 1000);
  }
  // Logins: all in one room, spread round-robin over the nodes, BURST at a time.
  const cmdL0 = await redisCommands(redis);
  const cpu0 = cpuAll(pids);
  const cpuEach0 = pids.map(cpuS);
  const sys0 = pids.map(sysS);
  const sched0 = schedAll(pids);
  const load0 = loadavg();
  const loginLat = [];
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < USERS; i += BURST) {
    if (RATE > 0) {
      const wait = t0 + (i / RATE) * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const batch = [];
    for (let j = i; j < Math.min(USERS, i + BURST); j++) {
      const c = new RawClient(
        urls[ONLY >= 0 ? ONLY % urls.length : j % urls.length],
        `u-${j}`,
        'bench-nodes',
      );
      clients.push(c);
      const ts = performance.now();
      batch.push(
        c
          .open()
          .then(() => c.login())
          .then(() => loginLat.push(performance.now() - ts)),
      );
    }
    // Paced: a failure surfaces at the Promise.all below, not as an unhandled rejection before it.
    if (RATE > 0) {
      for (const p of batch) p.catch(() => {});
      pending.push(...batch);
    } else await Promise.all(batch);
  }
  await Promise.all(pending);
  const loginMs = performance.now() - t0;
  const cpuLogin = cpuAll(pids) - cpu0;
  const sched1 = schedAll(pids);
  const cpuLoginEach = pids.map((p, i) => ((cpuS(p) - cpuEach0[i]) * 1000) / USERS);
  const sysLogin = (pids.reduce((a, p, i) => a + sysS(p) - sys0[i], 0) * 1000) / USERS;
  const cmdL1 = await redisCommands(redis);
  await new Promise((r) => setTimeout(r, 500));
  const rss1 = servers.map((s) => rssKb(s.pid));

  // Big-room fan-out: each round one client (on a node in turn) sends; every client records arrival.
  const latencies = [];
  const cmd0 = await redisCommands(redis);
  const cpu1 = cpuAll(pids);
  for (let round = 0; round < ROUNDS; round++) {
    await bigRoomRound(clients, clients[round % clients.length], round, latencies, 15_000);
  }
  const cpuFan = cpuAll(pids) - cpu1;
  const cmd1 = await redisCommands(redis);
  for (const c of clients) c.close();
  redis?.disconnect();
  await Promise.all(servers.slice(1).map((s) => s.stop()));
  await servers[0].stop();
  const perUserKb = rss1.map((r, i) => (r - rss0[i]) / (USERS / servers.length));
  return {
    label,
    loginsPerS: (USERS / loginMs) * 1000,
    cpuMsPerLogin: (cpuLogin * 1000) / USERS,
    runMsPerLogin: (sched1.run - sched0.run) / 1e6 / USERS,
    idleMsPerS,
    idleMsPerLogin: (idleMsPerS * loginMs) / 1000 / USERS,
    waitMsPerLogin: (sched1.wait - sched0.wait) / 1e6 / USERS,
    slicesPerLogin: (sched1.slices - sched0.slices) / USERS,
    loginP50: pct(loginLat, 50),
    loginP99: pct(loginLat, 99),
    load: [load0, loadavg()],
    cpuLoginEach,
    sysLogin,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    cpuUsPerDelivered: (cpuFan * 1e6) / (ROUNDS * USERS),
    redisCmdsPerMsg: (cmd1.all - cmd0.all) / ROUNDS,
    redisScriptsPerMsg: (cmd1.scripts - cmd0.scripts) / ROUNDS,
    redisCmdsPerLogin: (cmdL1.all - cmdL0.all) / USERS,
    redisScriptsPerLogin: (cmdL1.scripts - cmdL0.scripts) / USERS,
    loginCommands: perCommand(cmdL0, cmdL1, USERS),
    kbPerUserPerNode: perUserKb.reduce((a, b) => a + b, 0) / perUserKb.length,
  };
}

/** A forked child, and a way to wait for its next message of a kind (bounded). */
function forkChild(file) {
  const child = fork(join(__dirname, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = [];
  child.on('message', (m) => {
    const i = waiting.findIndex((w) => w.cmd === m.cmd || m.cmd === 'error');
    if (i >= 0) waiting.splice(i, 1)[0].settle(m);
  });
  const next = (cmd, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${file}: no ${cmd} within ${timeoutMs} ms`)), timeoutMs);
      waiting.push({
        cmd,
        settle: (m) => {
          clearTimeout(t);
          if (m.cmd === 'error') reject(new Error(`${file}: ${m.message}`));
          else resolve(m);
        },
      });
    });
  return { child, next };
}

/** Open files this process may hold (children inherit it). */
function openFilesLimit() {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/**
 * Big-room fan-out to FANOUT_USERS sockets held by client processes (bench/fanoutWorker.js): each round
 * one sender (a client of this process, on each node in turn) sends a message carrying `zq<round>x`, and
 * every socket's receipt is timed against the send on the machine's monotonic clock.
 */
async function fanout(urls, legacy, pids) {
  const nWorkers = Math.ceil(FANOUT_USERS / PER_WORKER);
  const workers = Array.from({ length: nWorkers }, () => forkChild('fanoutWorker.js'));
  try {
    const t0 = performance.now();
    await Promise.all(
      workers.map((w, i) => {
        const from = i * PER_WORKER;
        const count = Math.min(PER_WORKER, FANOUT_USERS - from);
        w.child.send({
          cmd: 'open',
          urls,
          from,
          count,
          room: 'bench-fanout',
          legacy,
          appid: APPID,
          appSign: APPSIGN,
        });
        return w.next('opened', 300_000);
      }),
    );
    const openS = (performance.now() - t0) / 1000;
    const senders = [];
    for (const url of urls) {
      if (legacy) {
        const c = new RawClient(url, `sender-${senders.length}`, 'bench-fanout');
        await c.open();
        await c.login();
        senders.push({
          send: (r) =>
            c.request('bigim_chat', {
              msgs: [{ msg_category: 1, msg_type: 1, msg_content: `zq${r}x`, bigmsg_client_id: String(r) }],
            }),
          close: () => c.close(),
        });
      } else {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        await new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        senders.push({
          send: (r) =>
            ws.send(
              JSON.stringify({ header: { cmd: 'bigim_chat' }, body: { msgs: [{ msg_content: `zq${r}x` }] } }),
            ),
          close: () => ws.close(),
        });
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const latencies = [];
    let bytes = 0;
    let cpu0 = 0;
    // Two rounds first that are not counted (the code paths warm up in every process).
    const WARMUP = 2;
    for (let round = -WARMUP; round < FANOUT_ROUNDS; round++) {
      await Promise.all(
        workers.map((w) => (w.child.send({ cmd: 'arm', round: round + WARMUP }), w.next('armed'))),
      );
      if (round === 0) cpu0 = cpuAll(pids);
      const got = workers.map((w) => w.next('got', 60_000));
      const sentAt = Number(process.hrtime.bigint() / 1000n);
      void senders[(round + WARMUP) % senders.length].send(round + WARMUP)?.catch?.(() => {});
      for (const g of await Promise.all(got)) {
        if (round >= 0) for (const t of g.at) latencies.push((t - sentAt) / 1000);
        bytes = g.bytes;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const cpuUs = ((cpuAll(pids) - cpu0) * 1e6) / latencies.length;
    for (const s of senders) s.close();
    return {
      cpuUs,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      max: pct(latencies, 100),
      bytes,
      openS,
      n: latencies.length,
    };
  } finally {
    for (const w of workers) if (w.child.connected) w.child.send({ cmd: 'close' });
    await Promise.all(
      workers.map((w) => (w.child.exitCode === null ? new Promise((r) => w.child.once('exit', r)) : null)),
    );
  }
}

async function fanoutBare() {
  const bare = forkChild('fanoutBare.js');
  try {
    const { port } = await bare.next('port', 10_000);
    return await fanout([`ws://127.0.0.1:${port}`], false, [bare.child.pid]);
  } finally {
    bare.child.send({ cmd: 'close' });
    await new Promise((r) => (bare.child.exitCode === null ? bare.child.once('exit', r) : r()));
  }
}

async function fanoutNodes(n) {
  const { servers, redis, redisPid } = await startNodes(n, 0);
  try {
    return await fanout(
      servers.map((s) => `ws://127.0.0.1:${s.port}/ws`),
      true,
      [...servers.map((s) => s.pid), ...(redisPid ? [redisPid] : [])],
    );
  } finally {
    redis?.disconnect();
    await Promise.all(servers.slice(1).map((s) => s.stop()));
    await servers[0].stop();
  }
}

async function mainFanout() {
  const need = Math.ceil(FANOUT_USERS / PER_WORKER) > 0 ? FANOUT_USERS + 200 : 0;
  if (openFilesLimit() < need)
    throw new Error(
      `--users ${FANOUT_USERS} needs ${need} open files per process (a server holds every socket): ulimit -n is ${openFilesLimit()}`,
    );
  console.log(
    `\nbig-room fan-out: ${FANOUT_USERS.toLocaleString('en')} users in one room held by ${Math.ceil(FANOUT_USERS / PER_WORKER)} client processes, ${FANOUT_ROUNDS} messages, batching window 0 ms (send -> receipt at every socket)`,
  );
  const rows = [
    ['bare ws broadcast (1 process)', await fanoutBare()],
    ['1 node (memory, no redis)', await fanoutNodes(0)],
    [`${NODES} nodes + redis`, await fanoutNodes(NODES)],
  ];
  console.log(
    '| deployment | fan-out p50 | fan-out p99 | max | CPU µs per delivered message (server processes) | frame bytes | sockets opened in |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [label, r] of rows)
    console.log(
      `| ${label} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${r.cpuUs.toFixed(1)} | ${r.bytes} | ${r.openS.toFixed(1)} s |`,
    );
  const [bare, one, many] = rows.map((x) => x[1]);
  console.log(
    `ratios: ${NODES} nodes / 1 node p50 ${(many.p50 / one.p50).toFixed(2)}x, p99 ${(many.p99 / one.p99).toFixed(2)}x; ` +
      `1 node / bare ws p50 ${(one.p50 / bare.p50).toFixed(2)}x, p99 ${(one.p99 / bare.p99).toFixed(2)}x; ` +
      `${NODES} nodes / bare ws p99 ${(many.p99 / bare.p99).toFixed(2)}x`,
  );
}

async function main() {
  // `--fanout-only`: the big-room fan-out section alone (with --users).
  if (process.argv.includes('--fanout-only')) return mainFanout();
  console.log(
    `many nodes: ${USERS} clients in one room, ${ROUNDS} big-room messages (100 ms window); logins ` +
      (RATE > 0 ? `paced: ${RATE} per second, ${BURST} at a time` : `${BURST} at a time, each burst awaited`),
  );
  const rows = [await run('1 node (memory, no redis)', 0), await run(`${NODES} nodes + redis`, NODES)];
  const f = (x, d = 2) => x.toFixed(d);
  console.log(
    '| deployment | logins/s | CPU ms per login (all processes) | fan-out p50 | fan-out p99 | CPU µs per delivered message | Redis round trips (scripts) per message | Redis commands per message (lease beats included) | KiB per user per node |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.label} | ${f(r.loginsPerS, 0)} | ${f(r.cpuMsPerLogin)} | ${f(r.p50, 1)} ms | ${f(r.p99, 1)} ms | ${f(r.cpuUsPerDelivered, 1)} | ${f(r.redisScriptsPerMsg, 1)} | ${f(r.redisCmdsPerMsg, 1)} | ${f(r.kbPerUserPerNode, 1)} |`,
    );
  const [one, many] = rows;
  console.log(
    `Redis per login (${NODES} nodes): ${f(many.redisCmdsPerLogin)} commands, ${f(many.redisScriptsPerLogin)} scripts; ` +
      `per command: ${many.loginCommands}`,
  );
  console.log(
    `CPU ms per login by process (${NODES} nodes): ${many.cpuLoginEach.map((x) => f(x, 3)).join(' + ')} (nodes, then redis); of all processes' CPU per login, in the kernel: 1 node ${f(one.sysLogin, 3)}, ${NODES} nodes ${f(many.sysLogin, 3)}`,
  );
  for (const r of rows)
    console.log(
      `logins, ${r.label}: ${f(r.loginsPerS, 0)}/s, login p50 ${f(r.loginP50, 1)} ms p99 ${f(r.loginP99, 1)} ms; ` +
        `per login (scheduler, all threads): CPU ${f(r.runMsPerLogin, 3)} ms, run-queue wait ${f(r.waitMsPerLogin, 3)} ms, ` +
        `${f(r.slicesPerLogin, 1)} times on a CPU (${f((r.runMsPerLogin / r.slicesPerLogin) * 1000, 0)} µs each)` +
        (IDLE_MS > 0
          ? `; idle CPU ${f(r.idleMsPerS, 1)} ms/s (${f(r.idleMsPerLogin, 3)} ms per login at this pace), ` +
            `CPU less idle ${f(r.runMsPerLogin - r.idleMsPerLogin, 3)} ms`
          : '') +
        `; load average ${f(r.load[0])} -> ${f(r.load[1])}`,
    );
  const less = (r) => r.runMsPerLogin - r.idleMsPerLogin;
  console.log(
    `login CPU ratio on the scheduler's clock: ${f(many.runMsPerLogin / one.runMsPerLogin)}x` +
      (IDLE_MS > 0 ? `, less idle ${f(less(many) / less(one))}x` : '') +
      `; run-queue wait per login ${f(one.waitMsPerLogin, 3)} ms (1 node), ${f(many.waitMsPerLogin, 3)} ms (${NODES} nodes)`,
  );
  console.log(
    `ratios (${NODES} nodes / 1 node): CPU per login ${f(many.cpuMsPerLogin / one.cpuMsPerLogin)}x, ` +
      `CPU per delivered message ${f(many.cpuUsPerDelivered / one.cpuUsPerDelivered)}x, fan-out p99 ${f(many.p99 / one.p99)}x`,
  );
  if (FANOUT_USERS > 0) await mainFanout();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
