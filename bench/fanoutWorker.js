/**
 * One client process of the big-room fan-out bench (bench/nodes.js `--users N`): it holds a few thousand
 * WebSockets so that the load generator is not the bottleneck, and timestamps each socket's receipt of a
 * round's message with the machine's monotonic clock (process.hrtime, the same clock in every process), so
 * the parent can subtract its own send time.
 *
 * Driven over IPC by the parent (child_process.fork):
 *   {cmd:'open', urls, from, count, room, legacy}  open `count` sockets (socket i on urls[(from+i) % n]),
 *                                                  64 at a time; `legacy`: log each in (legacy protocol)
 *   {cmd:'arm', round}                             listen for the round's token (`zq<round>x`)
 *   {cmd:'close'}                                  close every socket and exit
 * Answers {cmd:'opened'}, {cmd:'armed'}, and {cmd:'got', round, at: [µs...], bytes} once every socket heard
 * the round (at: each receipt, µs of the monotonic clock). Every socket does the same work for a frame in
 * every deployment (one Buffer search), so the harness costs the same beside the bare `ws` broadcast.
 */
const { join } = require('node:path');
const WebSocket = require('ws');
const { RawClient } = require('./lib');

const now = () => Number(process.hrtime.bigint() / 1000n);
let sockets = [];
let token = null;
let round = -1;
let got = 0;
let at = [];
let bytes = 0;
const heard = new Set();

function onFrame(i, data) {
  if (!token || heard.has(i)) return;
  const t = now();
  if (data.indexOf(token) < 0) return;
  heard.add(i);
  at.push(t);
  bytes = data.length;
  if (++got === sockets.length) {
    process.send({ cmd: 'got', round, at, bytes });
    token = null;
  }
}

async function open({ urls, from, count, room, legacy, appid, appSign }) {
  const app = legacy
    ? {
        appid,
        appSign,
        mintLoginToken: require(join(__dirname, '..', 'dist', 'server', 'index.js')).mintLoginToken,
      }
    : null;
  for (let i = 0; i < count; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 64); j++) {
      const url = urls[(from + j) % urls.length];
      if (legacy) {
        const c = new RawClient(url, `f-${from + j}`, room, app);
        sockets.push(c);
        batch.push(
          c.open().then(async () => {
            await c.login();
            // From here on every frame goes through the same search as a bare socket's.
            c.ws.removeAllListeners('message');
            c.ws.on('message', (d) => onFrame(j, d));
          }),
        );
      } else {
        const ws = new WebSocket(url);
        sockets.push({ ws });
        batch.push(
          new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('error', reject);
          }),
        );
        ws.on('message', (d) => onFrame(j, d));
      }
    }
    await Promise.all(batch);
  }
}

process.on('message', (m) => {
  if (m.cmd === 'open')
    open(m).then(
      () => process.send({ cmd: 'opened' }),
      (e) => process.send({ cmd: 'error', message: String(e?.message ?? e) }),
    );
  else if (m.cmd === 'arm') {
    round = m.round;
    token = Buffer.from(`zq${m.round}x`);
    got = 0;
    at = [];
    heard.clear();
    process.send({ cmd: 'armed' });
  } else if (m.cmd === 'close') {
    for (const s of sockets) s.ws.terminate();
    sockets = [];
    process.exit(0);
  }
});
