/** @jest-environment node */
/**
 * The media plane's share of token rules, on a fake socket (no Janus): the LoginReq takes the same
 * tokens as the room login (04, allowV1Token), and a 04 payload that forbids publishing a stream refuses
 * CreateSessionReq type 0 with result 8; streamParams are bounded by auth.maxTokenLifetimeS.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { WebSocket } from 'ws';
import { mintLoginToken } from '../../../src/server/auth/loginToken';
import { mintStreamParams } from '../../../src/server/auth/streamToken';
import { mintToken04, type Mint04Options } from '../../../src/server/auth/token04';
import { resolveConfig, type ServerOptions } from '../../../src/server/config';
import { systemClock } from '../../../src/server/clock';
import { MediaService } from '../../../src/server/media/MediaService';
import { Presence } from '../../../src/server/presence/Presence';

const APPID = 91;
const SIGN = '5a'.repeat(32);
const SECRET = 'q'.repeat(16) + 'W'.repeat(16);

class Ws extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  sent: { header: Record<string, unknown>; body: Record<string, unknown> }[] = [];
  send(text: string) {
    this.sent.push(JSON.parse(text) as Ws['sent'][number]);
  }
  close() {
    this.readyState = 3;
    this.emit('close');
  }
  /** Sends a request and waits (bounded) for its reply body. */
  async ask(cmd: string, seq: number, body: object): Promise<Record<string, unknown>> {
    const header = { version: '1.0.1', cmd, appid: String(APPID), seq, user_id: 'alice', session_id: 0 };
    this.emit('message', Buffer.from(JSON.stringify({ header, body })), false);
    for (let i = 0; i < 100; i++) {
      const r = this.sent.find((f) => f.header.seq === seq && String(f.header.cmd).endsWith('Rsp'));
      if (r) return r.body;
      await new Promise((res) => setTimeout(res, 2));
    }
    throw new Error(`no reply to ${cmd} ${seq}`);
  }
}

const services: MediaService[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.dispose();
});

function media(app: Record<string, unknown> = {}, extra: ServerOptions = {}) {
  const config = resolveConfig({
    apps: [{ appid: APPID, appSign: SIGN, serverSecret: SECRET, ...app }],
    log: { level: 'silent' },
    ...extra,
  });
  const svc = new MediaService(
    config,
    pino({ level: 'silent' }),
    null,
    { isMember: () => true, memberSince: () => undefined, isListed: () => false, streamBack: () => {} },
    new Presence(systemClock, config.room.graceMs),
  );
  services.push(svc);
  const ws = new Ws();
  svc.attach(ws as unknown as WebSocket);
  return ws;
}

const t04 = (o: Partial<Mint04Options> = {}) =>
  mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, ...o });

test('LoginReq: 04 tokens accepted; room, login privilege and allowV1Token enforced as on the room socket', async () => {
  expect(await media().ask('LoginReq', 1, { token: t04(), roomid: 'r1' })).toMatchObject({ result: 0 });
  expect(await media().ask('LoginReq', 1, { token: t04({ roomId: 'r2' }), roomid: 'r1' })).toEqual({
    result: 1,
    err_info: 'the login token is for another room',
  });
  expect(
    await media().ask('LoginReq', 1, { token: t04({ privileges: { login: 0 } }), roomid: 'r1' }),
  ).toMatchObject({ result: 1, err_info: expect.stringMatching(/does not allow login/) });
  const v1 = mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'alice' });
  expect(await media().ask('LoginReq', 1, { token: v1, roomid: 'r1' })).toMatchObject({ result: 0 });
  expect(await media({ allowV1Token: false }).ask('LoginReq', 1, { token: v1, roomid: 'r1' })).toEqual({
    result: 1,
    err_info: `token error: v1 login tokens are disabled for app ${APPID} (allowV1Token: false): use a 04 token`,
  });
  expect(
    await media().ask('LoginReq', 1, {
      token: mintToken04({ appid: APPID, idName: 'alice', serverSecret: SECRET, ttlS: -5 }),
    }),
  ).toEqual({ result: 1, err_info: 'token expired' });
});

test('CreateSessionReq type 0: refused with result 8 when the 04 payload does not allow the stream', async () => {
  const mute = media();
  await mute.ask('LoginReq', 1, { token: t04({ privileges: { publish: 0 } }), roomid: 'r1' });
  expect(await mute.ask('CreateSessionReq', 2, { type: 0, stream_id: 's1' })).toEqual({
    result: 8,
    err_info: 'the login token does not allow publishing this stream',
  });
  // Playing is not restricted: it gets as far as the (absent) media server.
  expect(
    await mute.ask('CreateSessionReq', 3, { type: 1, stream_id: 's1', negotiate_mode: 1 }),
  ).toMatchObject({
    result: 5,
  });
  const listed = media();
  await listed.ask('LoginReq', 1, { token: t04({ streamIds: ['ok'] }), roomid: 'r1' });
  expect(await listed.ask('CreateSessionReq', 2, { type: 0, stream_id: 'other' })).toMatchObject({
    result: 8,
  });
  expect(await listed.ask('CreateSessionReq', 3, { type: 0, stream_id: 'ok' })).toMatchObject({ result: 5 });
  const free = media();
  await free.ask('LoginReq', 1, { token: t04(), roomid: 'r1' });
  expect(await free.ask('CreateSessionReq', 2, { type: 0, stream_id: 'any' })).toMatchObject({ result: 5 });
});

test('streamParams: v2 required and bounded by auth.maxTokenLifetimeS', async () => {
  const ws = media({ streamAuth: true }, { auth: { maxTokenLifetimeS: 600 } });
  expect(await ws.ask('LoginReq', 1, { token: t04({ ttlS: 300 }), roomid: 'r1' })).toMatchObject({
    result: 0,
  });
  const long = mintStreamParams({ appid: APPID, appSign: SIGN, streamId: 's', ttlS: 601 });
  expect(await ws.ask('CreateSessionReq', 2, { type: 0, stream_id: 's', strAuthParam: long })).toEqual({
    result: 8,
    err_info: 'streamParams lifetime over the 600 s the server allows',
  });
  const ok = mintStreamParams({ appid: APPID, appSign: SIGN, streamId: 's', ttlS: 599 });
  expect(await ws.ask('CreateSessionReq', 3, { type: 0, stream_id: 's', strAuthParam: ok })).toMatchObject({
    result: 5,
  });
  const old = ok.replace('zg_ver=2&', '');
  expect(await ws.ask('CreateSessionReq', 4, { type: 0, stream_id: 's', strAuthParam: old })).toMatchObject({
    result: 8,
    err_info: expect.stringMatching(/must carry zg_ver=2/),
  });
});
