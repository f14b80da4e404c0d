/** @jest-environment node */
/**
 * GET /metrics (Prometheus text format, prom-client) from a real server with raw legacy clients: the counts
 * the planes keep, messages per cmd, refusals per code, the login latency histogram, every series labelled
 * with the node; who may read it (http.healthAllow, or the metrics.token bearer); metrics.enabled false.
 */
import { mintLoginToken, type RunningServer } from '../../src/server';
import { FakeBackend } from '../fakes/FakeBackend';
import { RawMedia } from '../helpers/rawMedia';
import { adminCall, httpAnswer } from '../helpers/adminClient';
import { loggedIn, startOpsServer } from '../helpers/opsServer';
import { APPID, Raw, SIGN } from '../helpers/rawRoom';

jest.setTimeout(30_000);

const TOKEN = 'metrics-token-0123456789';
let server: RunningServer;
const clients: Raw[] = [];

async function start(extra: Record<string, unknown> = {}): Promise<void> {
  server = await startOpsServer({
    apps: [{ appid: APPID, appSign: SIGN, adminSecret: 'admin-secret-0123456789abcdef' }],
    metrics: { node: 'node-a', token: TOKEN },
    ...extra,
  });
}

const user = (idName: string, room = 'r1') => loggedIn(server, clients, idName, room);

/** The value of one series (labels as written by prom-client, node first), or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries({ ...labels, node: 'node-a' });
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (want.every(([k, v]) => got[k] === v) && Object.keys(got).length === want.length) return Number(m[3]);
  }
  return undefined;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws?.terminate();
  await server?.close();
});

test('rooms, users, streams, messages per cmd, refusals per code, login latency, admin calls; node label', async () => {
  await start();
  const alice = await user('alice');
  await user('bob');
  await user('carol', 'r2');
  await alice.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: 's1', extra_info: '' }),
  });
  await alice.request('hb', { reserve: 0 });
  // A refusal: a room message with a body the schema refuses (1000000001-style codes, docs/errors.md).
  const bad = await alice.request('im_chat', { nope: 1 });
  const badCode = String(bad.body.err_code);
  expect(badCode).not.toBe('0');
  await adminCall(server.url, 'list-rooms', {}, { appid: APPID, secret: 'admin-secret-0123456789abcdef' });
  await adminCall(server.url, 'list-rooms', {}, { appid: APPID, secret: 'wrong-secret-0123456789abcdef' });

  const r = await httpAnswer(`${server.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const m = r.text;
  expect(value(m, 'zego_rooms')).toBe(2);
  expect(value(m, 'zego_users')).toBe(3);
  expect(value(m, 'zego_streams')).toBe(1);
  expect(value(m, 'zego_room_sockets')).toBe(3);
  expect(value(m, 'zego_room_messages_total', { cmd: 'login' })).toBe(3);
  expect(value(m, 'zego_room_messages_total', { cmd: 'hb' })).toBe(1);
  expect(value(m, 'zego_room_messages_total', { cmd: 'stream' })).toBe(1);
  expect(value(m, 'zego_room_refusals_total', { code: badCode })).toBe(1);
  expect(value(m, 'zego_login_duration_seconds_count', { result: 'ok' })).toBe(3);
  expect(value(m, 'zego_login_duration_seconds_bucket', { result: 'ok', le: '+Inf' })).toBe(3);
  expect(value(m, 'zego_login_duration_seconds_sum', { result: 'ok' })).toBeGreaterThan(0);
  expect(value(m, 'zego_admin_requests_total', { route: 'list-rooms', code: '0' })).toBe(1);
  expect(value(m, 'zego_admin_requests_total', { route: 'list-rooms', code: '40103' })).toBe(1);
  // No media plane here: its gauges have no value rather than a false 0.
  expect(value(m, 'zego_janus_up')).toBeUndefined();
  expect(m).not.toMatch(/zego_janus_handles/);
  // Node's process metrics come with the node label too.
  expect(value(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  // Every sample line carries the node label.
  for (const line of m.split('\n').filter((l) => l && !l.startsWith('#')))
    expect(line).toMatch(/node="node-a"/);

  alice.ws.terminate();
  // A socket that drops leaves its user in its grace: the user stays listed until it expires.
  const after = (await httpAnswer(`${server.url}/metrics`)).text;
  expect(value(after, 'zego_room_sockets')).toBe(2);
});

test('the metrics.token bearer opens /metrics where http.healthAllow does not; HEAD; a wrong token is refused', async () => {
  await start({ http: { healthAllow: ['10.9.9.9'] } });
  expect((await httpAnswer(`${server.url}/metrics`)).status).toBe(403);
  expect(
    (await httpAnswer(`${server.url}/metrics`, 'GET', { authorization: `Bearer ${TOKEN}x` })).status,
  ).toBe(403);
  expect((await httpAnswer(`${server.url}/metrics`, 'GET', { authorization: 'Basic abc' })).status).toBe(403);
  const ok = await httpAnswer(`${server.url}/metrics`, 'GET', { authorization: `Bearer ${TOKEN}` });
  expect(ok.status).toBe(200);
  expect(ok.text).toMatch(/zego_rooms\{node="node-a"\} 0/);
  const head = await httpAnswer(`${server.url}/metrics`, 'HEAD', { authorization: `Bearer ${TOKEN}` });
  expect(head.status).toBe(200);
  expect(head.text).toBe('');
  // Through a proxy (a forwarded header), the address no longer counts; the token still does.
  await server.close();
  await start();
  expect((await httpAnswer(`${server.url}/metrics`, 'GET', { 'x-forwarded-for': '1.2.3.4' })).status).toBe(
    403,
  );
});

test('metrics.enabled false: 404', async () => {
  await start({ metrics: { enabled: false } });
  expect((await httpAnswer(`${server.url}/metrics`)).status).toBe(404);
});

test('with an SFU (the fake backend): Janus up and handles, media sessions; end-stream closes the publisher', async () => {
  const backend = new FakeBackend();
  // The media plane runs on the backend given; `janus.enabled` false only keeps coturn and Janus unspawned.
  server = await startOpsServer(
    {
      apps: [{ appid: APPID, appSign: SIGN, adminSecret: 'admin-secret-0123456789abcdef' }],
      metrics: { node: 'node-a' },
    },
    { backend },
  );
  const alice = await user('alice');
  const viewer = await user('viewer');
  const m = new RawMedia(server.url.replace(/^http/, 'ws') + '/media', APPID, 'alice');
  clients.push(m as unknown as Raw);
  await m.open();
  await m.login(mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'alice' }), 'r1');
  await m.publish('s1');
  await alice.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: 's1', extra_info: '' }),
  });
  const text = (await httpAnswer(`${server.url}/metrics`)).text;
  expect(value(text, 'zego_janus_up')).toBe(1);
  expect(value(text, 'zego_janus_handles')).toBe(backend.health().legs);
  expect(backend.health().legs).toBeGreaterThan(0);
  expect(value(text, 'zego_media_sessions')).toBe(1);
  expect(value(text, 'zego_media_publishers')).toBe(1);
  const ended = await adminCall(
    server.url,
    'end-stream',
    { streamId: 's1' },
    { appid: APPID, secret: 'admin-secret-0123456789abcdef' },
  );
  expect(ended.body).toEqual({ code: 0, data: { roomId: 'r1', streamId: 's1' } });
  const closed = await m.wait((f) => f.header.cmd === 'CloseSessionPush', 'CloseSessionPush');
  expect(closed.body.reason).toBe(1);
  await viewer.push('push_stream_update', (b) => b.stream_cmd === 12002);
  const after = (await httpAnswer(`${server.url}/metrics`)).text;
  expect(value(after, 'zego_media_publishers')).toBe(0);
  expect(value(after, 'zego_streams')).toBe(0);
});
