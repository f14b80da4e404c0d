/** Small helpers shared by the benchmarks (bench/*.js). */
const { readFileSync } = require('node:fs');
const { createServer } = require('node:net');
const WebSocket = require('ws');

/** The p-th percentile of a list of numbers. */
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resident memory of a process, KiB. */
function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

module.exports = { pct, freePort, rssKb };

/**
 * The built server (dist/server/cli.js) as a child process with `config` (port: a free one unless given),
 * ready when /healthz answers (and, with `janus`, when its Janus is up). BENCH_SERVER_NODE_ARGS adds node
 * flags to it (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). `stdio` 'pipe' keeps the last 4 KB of stderr.
 */
async function startBuiltServer(config, { janus = false, stdio = 'inherit', timeoutMs = 20_000 } = {}) {
  const { spawn } = require('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const { join } = require('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'zego-bench-'));
  const port = config.port || (await freePort());
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ host: '127.0.0.1', ...config, port }));
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS || '').split(' ').filter(Boolean);
  const cli = join(__dirname, '..', 'dist', 'server', 'cli.js');
  const child = spawn(process.execPath, [...nodeArgs, cli, '--config', file], {
    stdio: ['ignore', stdio === 'pipe' ? 'ignore' : 'inherit', stdio],
  });
  let errTail = '';
  child.stderr?.on('data', (d) => (errTail = (errTail + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const health = async () => (await fetch(`${url}/healthz`)).json();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const h = await health();
      if (!janus || h.media?.janus === 'up') break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server${janus ? '/Janus' : ''} did not start within ${timeoutMs} ms ${errTail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    pid: child.pid,
    child,
    health,
    errTail: () => errTail,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}

module.exports.startBuiltServer = startBuiltServer;

/** Throws unless run inside scripts/netns.sh (Janus needs the veth at 127.0.0.2 to gather candidates). */
function requireNetns(script) {
  const { networkInterfaces } = require('node:os');
  if (!Object.values(networkInterfaces()).some((l) => l.some((a) => a.address === '127.0.0.2')))
    throw new Error(`run inside the network namespace: bash scripts/netns.sh node ${script}`);
}

/** Headless Debian Chromium with fake devices, loopback ICE and nothing resolved beyond 127.0.0.1. */
function launchBenchChromium(extraArgs = []) {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ...extraArgs,
    ],
  });
}

module.exports.requireNetns = requireNetns;
module.exports.launchBenchChromium = launchBenchChromium;

/** A minimal legacy-protocol client: enough to log in, beat and receive pushes. */
class RawClient {
  /** `app`: {appid, appSign, mintLoginToken} (the built server's token minting). */
  constructor(url, idName, room, app, userStateFlag = 0) {
    this.app = app;
    this.userStateFlag = userStateFlag;
    this.url = url;
    this.idName = idName;
    this.room = room;
    this.seq = 0;
    this.pending = new Map();
    this.onPush = null;
    this.session = { user_id: '', session_id: '' };
  }
  open() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url);
      const t = setTimeout(() => reject(new Error('connect timeout')), 10_000);
      this.ws.once('open', () => {
        clearTimeout(t);
        resolve();
      });
      this.ws.once('error', reject);
      this.ws.on('message', (data) => {
        const msg = JSON.parse(data.toString());
        const p = msg.header.Protocol !== 'push' && this.pending.get(msg.header.seq);
        if (p) {
          this.pending.delete(msg.header.seq);
          p(msg);
        } else if (this.onPush) this.onPush(msg);
      });
    });
  }
  request(cmd, body) {
    const seq = ++this.seq;
    const header = {
      Protocol: 'req',
      cmd,
      appid: this.app.appid,
      seq,
      user_id: this.session.user_id,
      session_id: this.session.session_id,
      room_id: this.room,
    };
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`${cmd} timeout`));
      }, 10_000);
      this.pending.set(seq, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      this.ws.send(JSON.stringify({ header, body }));
    });
  }
  async login() {
    const { appid, appSign } = this.app;
    const token = this.app.mintLoginToken({ appid, appSign, idName: this.idName, ttlS: 3600 });
    const r = await this.request('login', {
      id_name: this.idName,
      nick_name: this.idName,
      role: 2,
      token,
      version: '1.12.5',
      room_name: this.room,
      user_state_flag: this.userStateFlag,
      room_create_flag: 1,
      client_type: 3,
      third_token: '',
    });
    if (r.body.err_code !== 0) throw new Error(`login failed ${r.body.err_code}`);
    this.session = { user_id: r.body.user_id, session_id: r.body.session_id };
    return r;
  }
  close() {
    this.ws.close();
  }
}

module.exports.RawClient = RawClient;

/**
 * One big-room round: `sender` sends message `r<round>`; resolves once every client heard it in a
 * push_merge_message, each arrival's latency (ms since the send) pushed to `latencies`; rejects after
 * `timeoutMs`.
 */
async function bigRoomRound(clients, sender, round, latencies, timeoutMs = 10_000) {
  const expected = clients.length;
  let got = 0;
  let sentAt = 0;
  const done = new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`fan-out round ${round}: ${got}/${expected} after ${timeoutMs} ms`)),
      timeoutMs,
    );
    for (const c of clients)
      c.onPush = (m) => {
        if (m.header.cmd !== 'push_merge_message') return;
        const body = JSON.parse(m.body.messages[0].msg_body);
        if (!body.msg_data.some((d) => d.msg_content === `r${round}`)) return;
        latencies.push(performance.now() - sentAt);
        if (++got === expected) {
          clearTimeout(t);
          resolve();
        }
      };
  });
  sentAt = performance.now();
  await sender.request('bigim_chat', {
    msgs: [{ msg_category: 1, msg_type: 1, msg_content: `r${round}`, bigmsg_client_id: String(round) }],
  });
  await done;
}

module.exports.bigRoomRound = bigRoomRound;
