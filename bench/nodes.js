#!/usr/bin/env node
/**
 * Many nodes (`node bench/nodes.js --nodes 3`, part of `npm run bench`). Prints figures; never fails on a
 * time. In one run, the same load against:
 *   - one node, rooms in memory (no Redis: the default deployment), and
 *   - N nodes sharing one Redis (the first node spawns it), clients spread round-robin over the nodes.
 * For each: logins per second (BENCH_USERS clients, 64 logging in at a time, all in one room), big-room
 * fan-out latency (send -> receipt at every client, p50/p99 over 20 rounds), CPU-seconds summed over every
 * process (the nodes and Redis) per login and per delivered big-room message, Redis commands per message,
 * and server memory per user per node (RSS delta).
 *
 * This machine has 2 cores: N nodes cannot show N times the throughput here. What decides it on real
 * machines is the CPU each login and each delivered message costs summed over all processes (one node
 * beside N nodes), and how many Redis round trips a message takes.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Redis = require('ioredis');
const { bigRoomRound, freePort, pct, rssKb, startBuiltServer, RawClient: LibRawClient } = require('./lib');

const ROOT = join(__dirname, '..');
const { mintLoginToken } = require(join(ROOT, 'dist', 'server', 'index.js'));
const APPID = 1234567;
const APPSIGN = 'ab'.repeat(32);
const USERS = Number(process.env.BENCH_USERS || 1000);
const ROUNDS = 20;
const argNodes = process.argv.indexOf('--nodes');
const NODES = argNodes > 0 ? Number(process.argv[argNodes + 1]) : 3;
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
const cpuAll = (pids) => pids.reduce((s, p) => s + cpuS(p), 0);

const config = (redis) => ({
  apps: [{ appid: APPID, appSign: APPSIGN }],
  room: { bigimTimeWindowMs: 100, heartbeatMs: 60_000, maxUsersPerRoom: 100_000 },
  janus: { enabled: false },
  limits: { messagesPerSecond: 1000, burst: 1000, maxConnectionsPerIp: 20_000, maxSocketsPerApp: 100_000 },
  log: { level: 'warn' },
  ...(redis ? { redis } : {}),
});

async function startNodes(n) {
  if (n === 0) return { servers: [await startBuiltServer(config(null))], redis: null, redisPid: null };
  const port = await freePort();
  const servers = [await startBuiltServer(config({ spawn: true, port }))];
  for (let i = 1; i < n; i++)
    servers.push(await startBuiltServer(config({ url: `redis://127.0.0.1:${port}` })));
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
  const pids = [...servers.map((s) => s.pid), ...(redisPid ? [redisPid] : [])];
  const urls = servers.map((s) => `ws://127.0.0.1:${s.port}/ws`);
  const rss0 = servers.map((s) => rssKb(s.pid));
  const clients = [];
  // Logins: all in one room, spread round-robin over the nodes, 64 at a time.
  const cmdL0 = await redisCommands(redis);
  const cpu0 = cpuAll(pids);
  const t0 = performance.now();
  for (let i = 0; i < USERS; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(USERS, i + 64); j++) {
      const c = new RawClient(urls[j % urls.length], `u-${j}`, 'bench-nodes');
      clients.push(c);
      batch.push(c.open().then(() => c.login()));
    }
    await Promise.all(batch);
  }
  const loginMs = performance.now() - t0;
  const cpuLogin = cpuAll(pids) - cpu0;
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

async function main() {
  console.log(`many nodes: ${USERS} clients in one room, ${ROUNDS} big-room messages (100 ms window)`);
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
    `ratios (${NODES} nodes / 1 node): CPU per login ${f(many.cpuMsPerLogin / one.cpuMsPerLogin)}x, ` +
      `CPU per delivered message ${f(many.cpuUsPerDelivered / one.cpuUsPerDelivered)}x, fan-out p99 ${f(many.p99 / one.p99)}x`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
