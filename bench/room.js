#!/usr/bin/env node
/**
 * Room-plane benchmarks (`npm run bench`). Prints figures; never fails on a time.
 *  1. login latency on loopback: p50/p99 over 200 sequential logins (connect excluded, login frame -> reply)
 *  2. 1,000 clients in one room: wall time for all to log in (64 at a time)
 *  3. big-room message fan-out to all 1,000: latency send -> receipt, p50/p99, for two batching windows
 *  4. server memory per connected user (RSS delta of the server process / users)
 *  5. 1,000 clients that all asked for user-list pushes (user_state_flag 1) log in: wall time and pushes
 *     received, with user-list merging off and at 100 ms (room.userlistMergeMs)
 * The server runs as its own process (dist/server/cli.js) so its memory is measured alone; the clients are
 * raw WebSockets speaking the legacy protocol (1,000 shims in jsdom would measure jsdom, not the server).
 */
const { join } = require('node:path');

const { bigRoomRound, pct, rssKb, startBuiltServer, RawClient: LibRawClient } = require('./lib');

const ROOT = join(__dirname, '..');
const { mintLoginToken } = require(join(ROOT, 'dist', 'server', 'index.js'));
const APPID = 1234567;
const APPSIGN = 'ab'.repeat(32);
const USERS = Number(process.env.BENCH_USERS || 1000);

const ms = (x) => `${x.toFixed(2)} ms`;

async function startServer(bigimTimeWindowMs, userlistMergeMs = 0) {
  const srv = await startBuiltServer({
    apps: [{ appid: APPID, appSign: APPSIGN }],
    room: { bigimTimeWindowMs, heartbeatMs: 30000, userlistMergeMs },
    janus: { enabled: false },
    limits: { messagesPerSecond: 1000, burst: 1000, maxConnectionsPerIp: 5000 },
    log: { level: 'warn' },
  });
  return { ...srv, ws: `ws://127.0.0.1:${srv.port}/ws` };
}

/** A legacy-protocol client of this bench's app (bench/lib.js). */
class RawClient extends LibRawClient {
  constructor(url, idName, room, userStateFlag = 0) {
    super(url, idName, room, { appid: APPID, appSign: APPSIGN, mintLoginToken }, userStateFlag);
  }
}

async function loginLatency(srv) {
  const times = [];
  for (let i = 0; i < 200; i++) {
    const c = new RawClient(srv.ws, `lat-${i}`, 'bench-latency');
    await c.open();
    const t0 = performance.now();
    await c.login();
    times.push(performance.now() - t0);
    c.close();
  }
  return times;
}

async function bigRoom(srv) {
  const clients = [];
  const rss0 = rssKb(srv.pid);
  const t0 = performance.now();
  for (let i = 0; i < USERS; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(USERS, i + 64); j++) {
      const c = new RawClient(srv.ws, `u-${j}`, 'bench-big');
      clients.push(c);
      batch.push(c.open().then(() => c.login()));
    }
    await Promise.all(batch);
  }
  const loginAllMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 500));
  const rss1 = rssKb(srv.pid);

  // Fan-out: 20 rounds; each round one client sends one message, all others record arrival.
  const latencies = [];
  for (let round = 0; round < 20; round++) {
    await bigRoomRound(clients, clients[round % clients.length], round, latencies);
  }
  for (const c of clients) c.close();
  return { loginAllMs, latencies, rssPerUserKb: (rss1 - rss0) / USERS, rss0, rss1 };
}

/** All users want user-list pushes: login storm wall time and the pushes it costs. */
async function userStorm(srv) {
  const clients = [];
  let pushes = 0;
  let actions = 0;
  const t0 = performance.now();
  for (let i = 0; i < USERS; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(USERS, i + 64); j++) {
      const c = new RawClient(srv.ws, `s-${j}`, 'bench-storm', 1);
      c.onPush = (m) => {
        if (m.header.cmd !== 'push_userlist_update') return;
        pushes++;
        actions += m.body.user_actions.length;
      };
      clients.push(c);
      batch.push(c.open().then(() => c.login()));
    }
    await Promise.all(batch);
  }
  const loginAllMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 300));
  for (const c of clients) c.close();
  return { loginAllMs, pushes, actions };
}

(async () => {
  console.log(`room-plane bench: node ${process.version}, ${USERS} users, loopback`);
  for (const windowMs of [100, 10]) {
    const srv = await startServer(windowMs);
    try {
      if (windowMs === 100) {
        const lat = await loginLatency(srv);
        console.log(
          `login latency (200 logins): p50 ${ms(pct(lat, 50))}  p99 ${ms(pct(lat, 99))}  (aim: p50 <= 10 ms)`,
        );
      }
      const r = await bigRoom(srv);
      console.log(`bigim_time_window ${windowMs} ms:`);
      console.log(`  ${USERS} clients log in: ${ms(r.loginAllMs)} (64 concurrent)`);
      console.log(
        `  fan-out to ${USERS} users, send -> receipt (includes the batching window): p50 ${ms(pct(r.latencies, 50))}  p99 ${ms(pct(r.latencies, 99))}  (aim: p99 <= 100 ms)`,
      );
      console.log(
        `  server RSS ${(r.rss0 / 1024).toFixed(1)} MiB -> ${(r.rss1 / 1024).toFixed(1)} MiB: ${r.rssPerUserKb.toFixed(1)} KiB per connected user`,
      );
    } finally {
      await srv.stop();
    }
  }
  for (const mergeMs of [0, 100]) {
    const srv = await startServer(100, mergeMs);
    try {
      const r = await userStorm(srv);
      console.log(
        `user-list pushes on, userlistMergeMs ${mergeMs}: ${USERS} clients log in: ${ms(r.loginAllMs)}; ${r.pushes} pushes carrying ${r.actions} actions`,
      );
    } finally {
      await srv.stop();
    }
  }
})().catch((e) => {
  console.error('bench failed:', e.message);
  process.exit(1);
});
