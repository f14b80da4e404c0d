#!/usr/bin/env node
/**
 * The operator's tools against the built server as its own process (`node bench/ops.js`). Prints figures;
 * never fails on a time.
 *  1. A business server that answers at once, after 5 s, or never: a bystander alone in its room beats
 *     every 20 ms while users log in and out of another room for 5 s, 8 at a time (two webhook events
 *     each; the default webhooks config: queue 10,000, 4 in flight, 5 s timeout); its heartbeat round trip
 *     p50/p99/max,
 *     beside the same churn with no webhooks at all, and what the sender holds afterwards.
 *  2. Webhook delivery latency to a healthy business server (login request sent -> event received), with
 *     the memory queue (one node) and with the Redis queue (one node and a spawned redis-server: every
 *     event is written to Redis, claimed from it and its delivery recorded there), one login at a time
 *     and 8 at a time; the churn of 1. with the Redis queue too.
 *  3. Admin API latency (signed list-rooms over a new connection each), and /metrics scrape time.
 */
const { createHash, createHmac, randomBytes } = require('node:crypto');
const { createServer, request } = require('node:http');
const { join } = require('node:path');
const { readFileSync } = require('node:fs');
const { pct, startBuiltServer, RawClient } = require('./lib');

/** CPU seconds (user + system) a process has used. */
function cpuS(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const ROOT = join(__dirname, '..');
const { mintLoginToken } = require(join(ROOT, 'dist', 'server', 'index.js'));
const APP = { appid: 7654321, appSign: 'cd'.repeat(32), mintLoginToken };
const SECRET = 'bench-admin-secret-0123456789';
const CHURN_MS = Number(process.env.BENCH_CHURN_MS || 5000);
const f2 = (x) => x.toFixed(2);

/** A business server: 'ok', 'slow' (200 after 5 s) or 'never' (holds every request). */
async function receiver(mode) {
  const got = [];
  const held = new Set();
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      got.push({ at: Date.now(), body });
      srv.emit('got', got[got.length - 1]);
      if (mode === 'ok') return res.writeHead(204).end();
      held.add(res);
      if (mode === 'slow') setTimeout(() => (held.delete(res), res.writeHead(200).end()), 5000);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/hooks`,
    got,
    /** Resolves with the first event received whose body holds `text` (bounded). */
    event: (text, ms) =>
      new Promise((resolve, reject) => {
        const had = got.find((g) => g.body.includes(text));
        if (had) return resolve(had);
        const t = setTimeout(
          () => (srv.off('got', on), reject(new Error(`no event ${text} in ${ms} ms`))),
          ms,
        );
        const on = (g) => {
          if (!g.body.includes(text)) return;
          clearTimeout(t);
          srv.off('got', on);
          resolve(g);
        };
        srv.on('got', on);
      }),
    stop: () => {
      for (const r of held) r.destroy();
      srv.closeAllConnections();
      return new Promise((r) => srv.close(r));
    },
  };
}

function httpJson(url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function adminCall(base, route, body = {}) {
  const target = `/admin/api/${route}`;
  const text = JSON.stringify(body);
  const ts = Math.floor(Date.now() / 1000);
  const nonce = randomBytes(16).toString('hex');
  const hash = createHash('sha256').update(text).digest('hex');
  const signed = ['ZEGO-ADMIN-HMAC-SHA256', 'POST', target, APP.appid, ts, nonce, hash].join('\n');
  return httpJson(
    base + target,
    'POST',
    {
      'content-type': 'application/json',
      'x-zego-appid': String(APP.appid),
      'x-zego-timestamp': String(ts),
      'x-zego-nonce': nonce,
      'x-zego-signature': createHmac('sha256', SECRET).update(signed).digest('hex'),
    },
    text,
  );
}

async function start(webhookUrl, redis = false) {
  const srv = await startBuiltServer({
    ...(redis ? { redis: { spawn: true } } : {}),
    apps: [{ ...APP, mintLoginToken: undefined, adminSecret: SECRET, ...(webhookUrl ? { webhookUrl } : {}) }],
    room: { heartbeatMs: 30000 },
    janus: { enabled: false },
    limits: { messagesPerSecond: 1000, burst: 1000 },
    admin: {
      appRequestsPerSecond: 10000,
      appBurst: 10000,
      addressRequestsPerSecond: 10000,
      addressBurst: 10000,
    },
    log: { level: 'warn' },
  });
  return { ...srv, ws: `ws://127.0.0.1:${srv.port}/ws`, http: `http://127.0.0.1:${srv.port}` };
}

/** Heartbeat round trips of a logged-in client every 20 ms until `done()`. */
async function beats(c, done) {
  const rtts = [];
  while (!done()) {
    const t0 = performance.now();
    await c.request('hb', { reserve: 0 });
    rtts.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return rtts;
}

/** Users log in to room 'busy' and out again, 8 at a time, for `ms`; how many did. */
async function churn(srv, ms) {
  let next = 0;
  const end = Date.now() + ms;
  const worker = async () => {
    while (Date.now() < end) {
      const c = new RawClient(srv.ws, `churn-${next++}`, 'busy', APP);
      await c.open();
      await c.login();
      await c.request('logout', {});
      c.close();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return next;
}

async function slowServerEffect(mode, redis = false) {
  const hooks = mode === 'none' ? null : await receiver(mode);
  const srv = await start(hooks?.url, redis);
  try {
    const by = new RawClient(srv.ws, 'bystander', 'quiet', APP);
    await by.open();
    await by.login();
    let over = false;
    const cpu0 = cpuS(srv.pid);
    const t0 = performance.now();
    const [rtts, users] = await Promise.all([
      beats(by, () => over),
      churn(srv, CHURN_MS).then((n) => ((over = true), n)),
    ]);
    const churnMs = performance.now() - t0;
    const serverCpuMs = (cpuS(srv.pid) - cpu0) * 1000;
    const health = JSON.parse((await httpJson(`${srv.http}/healthz`, 'GET', {})).text);
    const w = health.webhooks[APP.appid];
    by.close();
    return { rtts, users, churnMs, serverCpuMs, w, received: hooks?.got.length ?? 0 };
  } finally {
    await srv.stop();
    await hooks?.stop();
  }
}

/** Login request sent -> its event received, for `n` logins, `par` at a time. */
async function deliveryLatency(redis, par, n = 400) {
  const hooks = await receiver('ok');
  const srv = await start(hooks.url, redis);
  try {
    const lat = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const c = new RawClient(srv.ws, `d-${i}`, 'lat', APP);
        await c.open();
        const t0 = Date.now();
        // The login's event is the only one naming the user (bounded wait).
        const got = hooks.event(`"idName":"d-${i}"`, 10_000);
        await c.login();
        lat.push((await got).at - t0);
        c.close();
      }
    };
    await Promise.all(Array.from({ length: par }, worker));
    return lat;
  } finally {
    await srv.stop();
    await hooks.stop();
  }
}

async function adminLatency() {
  const srv = await start(null);
  try {
    const users = [];
    for (let i = 0; i < 200; i++) {
      const c = new RawClient(srv.ws, `a-${i}`, `room-${i % 20}`, APP);
      await c.open();
      await c.login();
      users.push(c);
    }
    const calls = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      const r = await adminCall(srv.http, 'list-rooms');
      if (r.status !== 200) throw new Error(`list-rooms ${r.status} ${r.text}`);
      calls.push(performance.now() - t0);
    }
    const scrapes = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await httpJson(`${srv.http}/metrics`, 'GET', {});
      scrapes.push(performance.now() - t0);
    }
    for (const c of users) c.close();
    return { calls, scrapes };
  } finally {
    await srv.stop();
  }
}

(async () => {
  console.log(
    `A business server's effect on a bystander's heartbeat round trip while users log in and out for ${CHURN_MS} ms:`,
  );
  const modes = (process.env.BENCH_HOOK_MODES ?? 'none,ok,slow,never,ok+redis').split(',').filter(Boolean);
  for (const mode of modes) {
    const redis = mode.endsWith('+redis');
    const r = await slowServerEffect(mode.replace('+redis', ''), redis);
    const what = {
      none: 'no webhooks',
      ok: 'answers at once',
      slow: 'answers after 5 s',
      never: 'never answers',
      'ok+redis': 'at once, Redis queue',
    }[mode];
    const q = r.w
      ? `; sender: ${r.w.delivered} delivered, ${r.w.queued} queued, ${r.w.inFlight} in flight, ${r.w.retrying} retrying`
      : '';
    console.log(
      `  ${what.padEnd(18)} hb rtt p50 ${f2(pct(r.rtts, 50))} ms  p99 ${f2(pct(r.rtts, 99))} ms  max ${f2(Math.max(...r.rtts))} ms (${r.rtts.length} beats; ${r.users} users in ${Math.round(r.churnMs)} ms, server CPU ${f2(r.serverCpuMs / r.users)} ms per user${q}; receiver got ${r.received})`,
    );
  }
  for (const [redis, par] of [
    [false, 1],
    [true, 1],
    [false, 8],
    [true, 8],
  ]) {
    const lat = await deliveryLatency(redis, par);
    console.log(
      `Webhook delivery, ${redis ? 'Redis queue ' : 'memory queue'}, ${par} login${par > 1 ? 's' : ''} at a time, login request sent -> event received: p50 ${pct(lat, 50)} ms  p99 ${pct(lat, 99)} ms  max ${Math.max(...lat)} ms (${lat.length} logins)`,
    );
  }
  const a = await adminLatency();
  console.log(
    `Admin API list-rooms (200 users in 20 rooms, new connection per call): p50 ${f2(pct(a.calls, 50))} ms  p99 ${f2(pct(a.calls, 99))} ms; /metrics scrape p50 ${f2(pct(a.scrapes, 50))} ms  p99 ${f2(pct(a.scrapes, 99))} ms`,
  );
})().catch((e) => {
  console.error('bench failed:', e.stack || e.message);
  process.exit(1);
});
