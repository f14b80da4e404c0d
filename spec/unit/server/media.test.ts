/** @jest-environment node */
/**
 * The media-signalling service on a fake socket (no Janus): login token check, validation, room
 * membership, stream authentication, the offering-player refusal, the Janus-down answer; plus the Janus
 * config set and the stream token.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { WebSocket } from 'ws';
import { mintLoginToken } from '../../../src/server';
import { checkStreamParams, mintStreamParams } from '../../../src/server/auth/streamToken';
import { resolveConfig } from '../../../src/server/config';
import { janusConfigFiles } from '../../../src/server/media/JanusProcess';
import { systemClock } from '../../../src/server/clock';
import { MediaService } from '../../../src/server/media/MediaService';
import { Presence } from '../../../src/server/presence/Presence';

const APPID = 77;
const SIGN = 'ef'.repeat(32);

class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  terminate() {
    this.readyState = 3;
  }
  sent: { header: Record<string, unknown>; body: Record<string, unknown> }[] = [];
  closed: [number, string] | null = null;
  send(text: string) {
    this.sent.push(JSON.parse(text) as FakeWs['sent'][number]);
  }
  close(code: number, reason: string) {
    this.closed = [code, reason];
    this.readyState = 3;
    this.emit('close');
  }
  frame(cmd: string, seq: number, body: unknown, extra: Record<string, unknown> = {}) {
    const header = {
      version: '1.0.1',
      cmd,
      appid: String(APPID),
      seq,
      user_id: 'alice',
      session_id: 0,
      ...extra,
    };
    this.emit('message', Buffer.from(JSON.stringify({ header, body })), false);
  }
  async reply(seq: number) {
    for (let i = 0; i < 50; i++) {
      const r = this.sent.find((f) => f.header.seq === seq && String(f.header.cmd).endsWith('Rsp'));
      if (r) return r;
      await new Promise((res) => setTimeout(res, 2));
    }
    throw new Error(`no reply to seq ${seq}: ${JSON.stringify(this.sent)}`);
  }
}

function service(
  opts: { streamAuth?: boolean; member?: boolean; idleTimeoutMs?: number; rate?: number } = {},
) {
  const config = resolveConfig({
    apps: [{ appid: APPID, appSign: SIGN, streamAuth: opts.streamAuth ?? false }],
    log: { level: 'silent' },
    limits: { messagesPerSecond: opts.rate ?? 50, burst: opts.rate ?? 100 },
    media: { idleTimeoutMs: opts.idleTimeoutMs ?? 60_000 },
  });
  const svc = new MediaService(
    config,
    pino({ level: 'silent' }),
    null,
    {
      isMember: () => opts.member ?? true,
      memberSince: () => undefined,
      isListed: () => false,
      streamBack: () => {},
    },
    new Presence(systemClock, config.room.graceMs),
  );
  const ws = new FakeWs();
  svc.attach(ws as unknown as WebSocket);
  return { svc, ws };
}

async function loggedIn(opts: { streamAuth?: boolean; member?: boolean } = {}) {
  const s = service(opts);
  s.ws.frame('LoginReq', 1, {
    token: mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'alice' }),
    roomid: 'r1',
  });
  expect((await s.ws.reply(1)).body.result).toBe(0);
  return s;
}

afterEach(() => jest.useRealTimers());

test('LoginReq: a good room token logs in (hb_interval given); a bad one gets result 1', async () => {
  const { svc, ws } = service();
  ws.frame('LoginReq', 1, { token: 'garbage' });
  expect((await ws.reply(1)).body).toMatchObject({
    result: 1,
    err_info: expect.stringMatching(/^token error/),
  });
  ws.frame('LoginReq', 2, {
    token: mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'alice' }),
    roomid: 'r1',
  });
  const ok = await ws.reply(2);
  expect(ok.header).toMatchObject({ cmd: 'LoginRsp', seq: 2, appid: String(APPID), user_id: 'alice' });
  expect(ok.body).toMatchObject({ result: 0, hb_interval: 10_000 });
  svc.dispose();
});

test('bad frames: malformed JSON, unknown cmd, invalid body, request before login', async () => {
  const { svc, ws } = service();
  ws.emit('message', Buffer.from('{not json'), false);
  expect(ws.sent[0]!.body).toMatchObject({ result: 2, err_info: 'malformed frame' });
  ws.frame('BogusReq', 5, {});
  expect((await ws.reply(5)).body).toMatchObject({ result: 2 });
  ws.frame('CreateSessionReq', 6, { type: 0, stream_id: 's' });
  expect((await ws.reply(6)).body).toMatchObject({ result: 3 });
  ws.frame('LoginReq', 7, { token: 42 });
  expect((await ws.reply(7)).body).toMatchObject({ result: 2, err_info: expect.stringContaining('token') });
  for (let i = 0; i < 10; i++) ws.emit('message', Buffer.from('x'), false);
  expect(ws.closed).toEqual([4004, 'malformed frames']);
  svc.dispose();
});

test('hostile headers before login and over the rate: answered by name and seq, never a throw', async () => {
  const { svc, ws } = service({ rate: 5 });
  const deep = '['.repeat(3500) + '1' + ']'.repeat(3500);
  ws.emit(
    'message',
    Buffer.from(`{"header":{"cmd":"ClientHBReq","seq":3,"session_id":${deep}},"body":{}}`),
    false,
  );
  // Too deep to be a frame of the protocol: refused unparsed (malformed), still under its own name and seq.
  expect((await ws.reply(3)).body).toMatchObject({ result: 2, err_info: 'malformed frame' });
  ws.frame('LoginReq', 4, {
    token: mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'alice' }),
    roomid: 'r1',
  });
  expect((await ws.reply(4)).body.result).toBe(0);
  // A session_id that converts to nothing (String() and Number() would throw on it), over the rate (a
  // burst of 10 for media at rate 5): the refusal still names ClientHBRsp and its seq.
  const hb = (seq: number) =>
    Buffer.from(`{"header":{"cmd":"ClientHBReq","seq":${seq},"session_id":{"toString":null}},"body":{}}`);
  for (let i = 0; i < 12; i++) ws.emit('message', hb(10 + i), false);
  expect((await ws.reply(10)).body).toMatchObject({ result: 0 });
  const refused = await ws.reply(21);
  expect(refused.header).toMatchObject({ cmd: 'ClientHBRsp', seq: 21, session_id: 0 });
  expect(refused.body).toMatchObject({ result: 10 });
  expect(ws.closed).toBeNull();
  svc.dispose();
});

test('a logged-in media socket without a session is reaped after media.idleTimeoutMs (4008)', async () => {
  const { svc, ws } = service({ idleTimeoutMs: 1000 });
  ws.frame('LoginReq', 1, {
    token: mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'alice' }),
    roomid: 'r1',
  });
  expect((await ws.reply(1)).body.result).toBe(0);
  await new Promise((r) => setTimeout(r, 700));
  expect(ws.closed).toBeNull();
  await new Promise((r) => setTimeout(r, 1000));
  expect(ws.closed).toEqual([4008, 'no session']);
  expect((svc.stats() as { sockets: number }).sockets).toBe(0);
  svc.dispose();
});

test('CreateSessionReq: validated; not in the room -> 3; an offering player -> 7; Janus down -> 5', async () => {
  const out = await loggedIn({ member: false });
  out.ws.frame('CreateSessionReq', 2, { type: 0, stream_id: 's1' });
  expect((await out.ws.reply(2)).body).toMatchObject({ result: 3 });
  out.svc.dispose();
  const { svc, ws } = await loggedIn();
  ws.frame('CreateSessionReq', 2, { type: 3, stream_id: 's1' });
  expect((await ws.reply(2)).body).toMatchObject({ result: 2, err_info: expect.stringContaining('type') });
  ws.frame('CreateSessionReq', 3, { type: 1, stream_id: 's1', negotiate_mode: 0 });
  expect((await ws.reply(3)).body).toMatchObject({
    result: 7,
    err_info: expect.stringContaining('negotiate_mode 1'),
  });
  ws.frame('CreateSessionReq', 4, { type: 0, stream_id: 's1' });
  expect((await ws.reply(4)).body).toMatchObject({ result: 5, err_info: 'media server unavailable' });
  svc.dispose();
});

test('stream authentication: required by the app; missing, forged or expired streamParams -> 8', async () => {
  const { svc, ws } = await loggedIn({ streamAuth: true });
  ws.frame('CreateSessionReq', 2, { type: 0, stream_id: 's1' });
  expect((await ws.reply(2)).body).toMatchObject({ result: 8 });
  const forged = mintStreamParams({ appid: APPID, appSign: 'aa'.repeat(32), streamId: 's1' });
  ws.frame('CreateSessionReq', 3, { type: 0, stream_id: 's1', strAuthParam: forged });
  expect((await ws.reply(3)).body).toMatchObject({ result: 8, err_info: 'zg_token does not match' });
  const good = mintStreamParams({ appid: APPID, appSign: SIGN, streamId: 's1' });
  ws.frame('CreateSessionReq', 4, { type: 0, stream_id: 's1', strAuthParam: good });
  // Authorised: it gets as far as the (absent) media server.
  expect((await ws.reply(4)).body).toMatchObject({ result: 5 });
  svc.dispose();
});

test('stream tokens: bound to appid, stream id and expiry', () => {
  const p = mintStreamParams({ appid: 1, appSign: SIGN, streamId: 'a', ttlS: 60 });
  expect(p).toMatch(/^zg_ver=2&zg_expired=\d+&zg_nonce=[0-9a-f]{32}&zg_token=[0-9a-f]{64}$/);
  expect(checkStreamParams({ appid: 1, appSign: SIGN, streamId: 'a', params: p })).toBeNull();
  expect(checkStreamParams({ appid: 1, appSign: SIGN, streamId: 'b', params: p })).toBe(
    'zg_token does not match',
  );
  expect(checkStreamParams({ appid: 2, appSign: SIGN, streamId: 'a', params: p })).toBe(
    'zg_token does not match',
  );
  expect(
    checkStreamParams({ appid: 1, appSign: SIGN, streamId: 'a', params: p, now: Date.now() + 120_000 }),
  ).toBe('streamParams expired');
  expect(checkStreamParams({ appid: 1, appSign: SIGN, streamId: 'a', params: 'zg_expired=1' })).toMatch(
    /must carry/,
  );
});

test('the Janus config set: our interface, ICE list, NAT mapping, port range and WebSocket port', () => {
  const cfg = resolveConfig({
    janus: {
      interface: '127.0.0.2',
      iceEnforceList: '127.0.0.2',
      publicIp: '203.0.113.7',
      rtpPortRange: '30000-30010',
    },
  });
  const files = janusConfigFiles('/run/x', cfg.janus, 8199);
  expect(Object.keys(files).sort()).toEqual([
    'janus.jcfg',
    'janus.plugin.videoroom.jcfg',
    'janus.transport.websockets.jcfg',
  ]);
  const main = files['janus.jcfg']!;
  expect(main).toContain('interface = "127.0.0.2"');
  expect(main).toContain('ice_enforce_list = "127.0.0.2"');
  expect(main).toContain('nat_1_1_mapping = "203.0.113.7"');
  expect(main).toContain('rtp_port_range = "30000-30010"');
  expect(main).toContain('plugins_folder = "/run/x/plugins"');
  expect(main).toContain('full_trickle = false');
  expect(files['janus.transport.websockets.jcfg']).toContain('ws_port = 8199');
  expect(files['janus.transport.websockets.jcfg']).toContain('ws_ip = "127.0.0.1"');
  expect(files['janus.transport.websockets.jcfg']).toContain('admin_ws = false');
  const bare = janusConfigFiles('/run/x', resolveConfig({}).janus, 1)['janus.jcfg']!;
  expect(bare).not.toContain('interface =');
  expect(bare).not.toContain('nat_1_1_mapping');
});
