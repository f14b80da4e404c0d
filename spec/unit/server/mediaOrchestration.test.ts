/** @jest-environment node */
/**
 * Media orchestration without Janus: the real server (room plane, media plane, Presence) with
 * spec/fakes/FakeBackend.ts as the SFU and a fake clock for the grace, driven by raw room and media
 * clients over real WebSockets. What each side hears, and in which order, when a publisher stops, loses
 * its media, comes back, loses its room socket, logs out, or the SFU dies and returns.
 */
import { mintLoginToken, startServer, type RunningServer } from '../../../src/server';
import { BackendPool } from '../../../src/server/media/BackendPool';
import { FakeBackend } from '../../fakes/FakeBackend';
import { FakePlatform } from '../../fakes/FakePlatform';
import { RawMedia } from '../../helpers/rawMedia';
import { APPID, Raw, SIGN, type Frame } from '../../helpers/rawRoom';

const GRACE = 15_000;
const RELAY_APP = 424242;
const TURN_SECRET = 'orchestration-turn-secret';
const TURN_URLS = ['turn:turn.test:3478?transport=udp', 'turns:turn.test:443?transport=tcp'];
let server: RunningServer;
let backend: FakeBackend;
let clock: FakePlatform;
const closers: { ws?: { terminate(): void } }[] = [];

const CONFIG = {
  port: 0,
  log: { level: 'silent' as const },
  apps: [
    { appid: APPID, appSign: SIGN },
    { appid: RELAY_APP, appSign: SIGN, relayOnly: true },
  ],
  room: { graceMs: GRACE, heartbeatMs: 60_000 },
  // External TURN: credentials are handed out, nothing is spawned.
  turn: { servers: [{ urls: TURN_URLS, secret: TURN_SECRET }] },
};

beforeEach(async () => {
  backend = new FakeBackend();
  clock = new FakePlatform({ startMs: Date.now() });
  server = await startServer(CONFIG, { backend, clock });
});

afterEach(async () => {
  for (const c of closers.splice(0)) c.ws?.terminate();
  await server.close();
});

const wsUrl = (path: string) => server.url.replace('http', 'ws') + path;
const token = (idName: string) => mintLoginToken({ appid: APPID, appSign: SIGN, idName });

async function roomUser(idName: string): Promise<Raw> {
  const r = new Raw(wsUrl('/ws'), idName, 'r1');
  closers.push(r);
  await r.login();
  return r;
}

async function mediaUser(idName: string): Promise<RawMedia> {
  const m = new RawMedia(wsUrl('/media'), APPID, idName);
  closers.push(m);
  await m.open();
  await m.login(token(idName), 'r1');
  return m;
}

const announce = (r: Raw, streamId: string) =>
  r.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: streamId, extra_info: '' }) });

/** alice publishes s1 (room + media, live); bob and his player watch it. */
async function liveStream() {
  const alice = await roomUser('alice');
  const bob = await roomUser('bob');
  const aliceMedia = await mediaUser('alice');
  const bobMedia = await mediaUser('bob');
  const pubId = await aliceMedia.publish('s1');
  await announce(alice, 's1');
  await bob.push('push_stream_update', (b) => b.stream_cmd === 12001);
  const playId = await bobMedia.play('s1');
  expect(typeof playId).toBe('number');
  return { alice, bob, aliceMedia, bobMedia, pubId, playId: playId as number };
}

const isDelete = (f: Frame) => f.header.cmd === 'push_stream_update' && f.body.stream_cmd === 12002;
const closeFor = (id: number) => (f: Frame) =>
  f.header.cmd === 'CloseSessionPush' && f.header.session_id === id;

/** Lets real socket I/O happen while the fake clock stands still. */
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

test('a publisher stops: viewers hear the room delete before their play is closed (reason 4)', async () => {
  const { bob, aliceMedia, bobMedia, pubId, playId } = await liveStream();
  aliceMedia.send('CloseSessionReq', { reason: 0 }, pubId);
  const del = await bob.wait(isDelete, '12002');
  const closed = await bobMedia.wait(closeFor(playId), 'CloseSessionPush');
  expect(closed.body.reason).toBe(4);
  expect(del.at!).toBeLessThan(closed.at!);
  expect(backend.open).toHaveLength(0);
});

test('a publisher loses its media: players retry (reason 2), the stream stays listed for the grace, NotYet meanwhile, then 12002', async () => {
  const { bob, aliceMedia, bobMedia, playId } = await liveStream();
  aliceMedia.ws.terminate();
  const closed = await bobMedia.wait(closeFor(playId), 'CloseSessionPush');
  expect(closed.body.reason).toBe(2);
  const carolMedia = await mediaUser('carol');
  await roomUser('carol');
  expect(await carolMedia.play('s1')).toMatchObject({ result: 11, retry_after_ms: 500 });
  await clock.advance(GRACE - 1);
  await settle();
  expect(bob.frames.some(isDelete)).toBe(false);
  expect((await bob.request('stream_info', { reserve: 0 })).body.stream_info).toHaveLength(1);
  await clock.advance(1);
  await bob.wait(isDelete, '12002 at the end of the grace');
  expect(await carolMedia.play('s1')).toMatchObject({ result: 6 });
});

test('a publisher back within the grace: the room announces its stream again (12001) and never deletes it', async () => {
  const { bob, aliceMedia, bobMedia, playId } = await liveStream();
  aliceMedia.ws.terminate();
  await bobMedia.wait(closeFor(playId), 'CloseSessionPush');
  await clock.advance(5_000);
  const again = await mediaUser('alice');
  const before = bob.frames.length;
  await again.publish('s1');
  await bob.wait(
    (f) =>
      bob.frames.indexOf(f) >= before && f.header.cmd === 'push_stream_update' && f.body.stream_cmd === 12001,
    'the stream announced again',
  );
  // The player retries and plays the new feed.
  expect(typeof (await bobMedia.play('s1'))).toBe('number');
  await clock.advance(GRACE);
  await settle();
  expect(bob.frames.some(isDelete)).toBe(false);
});

test('the SFU dies: every session is reset, publishers keep the grace; once it is back, MediaReadyPush', async () => {
  const { bob, aliceMedia, bobMedia, pubId, playId } = await liveStream();
  backend.down();
  const a = await aliceMedia.push('SessionResetPush');
  const b = await bobMedia.push('SessionResetPush');
  expect(a.body.session_ids).toEqual([pubId]);
  expect(b.body.session_ids).toEqual([playId]);
  // Still listed: the publisher may come back.
  expect((await bob.request('stream_info', { reserve: 0 })).body.stream_info).toHaveLength(1);
  backend.comeBack();
  await aliceMedia.push('MediaReadyPush');
  await bobMedia.push('MediaReadyPush');
  // The publisher does not come back: its stream ends with the grace.
  await clock.advance(GRACE);
  await bob.wait(isDelete, '12002 at the end of the grace');
});

test('one SFU of a pool dies: only the sessions on it are reset (then MediaReadyPush); the others keep playing', async () => {
  await server.close();
  const a = new FakeBackend();
  const b = new FakeBackend();
  server = await startServer(CONFIG, { backend: new BackendPool([a, b]), clock });
  const { bob, bobMedia, aliceMedia, pubId, playId } = await liveStream(); // s1 and its player on a
  const carol = await roomUser('carol');
  const carolMedia = await mediaUser('carol');
  const pub2 = await carolMedia.publish('s2'); // on b, the least loaded
  await announce(carol, 's2');
  await bob.push(
    'push_stream_update',
    (body) => body.stream_cmd === 12001 && JSON.stringify(body).includes('s2'),
  );
  const play2 = (await bobMedia.play('s2')) as number;
  expect([a.open.length, b.open.length]).toEqual([2, 2]);
  a.down();
  expect((await aliceMedia.push('SessionResetPush')).body.session_ids).toEqual([pubId]);
  // bob's socket holds both plays: only the one on the dead SFU is reset.
  expect((await bobMedia.push('SessionResetPush')).body.session_ids).toEqual([playId]);
  await aliceMedia.push('MediaReadyPush');
  await bobMedia.push('MediaReadyPush');
  await settle();
  expect(
    carolMedia.frames.some((f) => f.header.cmd === 'SessionResetPush' || f.header.cmd === 'MediaReadyPush'),
  ).toBe(false);
  expect(bobMedia.frames.some(closeFor(play2))).toBe(false);
  expect(b.open.map((l) => l.role)).toEqual(['publisher', 'subscriber']);
  expect(carolMedia.frames.some(closeFor(pub2))).toBe(false);
  // alice publishes again: on b, the SFU that is up.
  await aliceMedia.publish('s1');
  expect(b.open.filter((l) => l.role === 'publisher')).toHaveLength(2);
});

test('a publisher loses its room socket: its streams and media outlive it for the grace, then end (reason 3)', async () => {
  const { alice, bob, aliceMedia, pubId } = await liveStream();
  alice.ws.terminate();
  await settle();
  await clock.advance(GRACE - 1);
  await settle();
  expect(bob.frames.some(isDelete)).toBe(false);
  expect(aliceMedia.frames.some(closeFor(pubId))).toBe(false);
  await clock.advance(1);
  const del = await bob.wait(isDelete, '12002');
  const closed = await aliceMedia.wait(closeFor(pubId), 'its own session closed');
  expect(closed.body.reason).toBe(3);
  expect(del.at!).toBeLessThan(closed.at!);
});

test('a publisher that logs in again within the grace keeps everything', async () => {
  const { alice, bob, aliceMedia, pubId } = await liveStream();
  alice.ws.terminate();
  await settle();
  await clock.advance(10_000);
  await roomUser('alice');
  await clock.advance(GRACE);
  await settle();
  expect(bob.frames.some(isDelete)).toBe(false);
  expect(aliceMedia.frames.some(closeFor(pubId))).toBe(false);
});

test('logout ends everything at once: the room delete, then the media (own reason 3, players reason 4)', async () => {
  const { alice, bob, aliceMedia, bobMedia, pubId, playId } = await liveStream();
  alice.send('logout', { reserve: 0 });
  const del = await bob.wait(isDelete, '12002');
  const own = await aliceMedia.wait(closeFor(pubId), 'own session');
  const play = await bobMedia.wait(closeFor(playId), 'the play');
  expect(own.body.reason).toBe(3);
  expect(play.body.reason).toBe(4);
  expect(del.at!).toBeLessThan(play.at!);
});

test('nobody else may take a stream id during its owner grace', async () => {
  const { aliceMedia } = await liveStream();
  aliceMedia.ws.terminate();
  await settle();
  const mallory = await mediaUser('mallory');
  await roomUser('mallory');
  const r = await mallory.request('CreateSessionReq', { type: 0, stream_id: 's1' });
  expect(r.body.result).toBe(9);
});

test('the media plane trusts the live room session: a token that expired since the room login still opens media', async () => {
  // A token valid for 2 s: the room login happens now, the media login 3 s later.
  const short = mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'dave', ttlS: 2 });
  const room = new Raw(wsUrl('/ws'), 'dave', 'r1');
  closers.push(room);
  expect((await room.login(1, short)).body.err_code).toBe(0);
  await new Promise((r) => setTimeout(r, 3000));
  const media = new RawMedia(wsUrl('/media'), APPID, 'dave');
  closers.push(media);
  await media.open();
  await media.login(short, 'r1');
  expect(typeof (await media.publish('d1'))).toBe('number');
  // Without a live room session the same token is refused as expired.
  const stranger = new RawMedia(wsUrl('/media'), APPID, 'dave');
  closers.push(stranger);
  await stranger.open();
  expect((await stranger.request('LoginReq', { token: short, roomid: 'elsewhere' })).body).toMatchObject({
    result: 1,
    err_info: 'token expired',
  });
}, 15_000);

describe('what the original SDK needs beyond TURN', () => {
  test('CreateSessionRsp carries TURN REST credentials for the shim and the original alike', async () => {
    await roomUser('alice');
    const m = await mediaUser('alice');
    const c = await m.request('CreateSessionReq', { type: 0, stream_id: 'c1' });
    expect(c.body).toMatchObject({
      result: 0,
      turn_server: TURN_URLS[0],
      // The original puts [turn_server, stun_server] in one relay-only ICE server: a second TURN URL.
      stun_server: TURN_URLS[1],
      turn_urls: TURN_URLS,
    });
    expect(c.body.relay_only).toBeUndefined();
    const username = String(c.body.turn_username);
    expect(username).toMatch(new RegExp(`^\\d{10}:${APPID}-[0-9a-f]{16}$`));
    expect(Number(username.split(':')[0])).toBeGreaterThan(Date.now() / 1000 + 23 * 3600);
    const { createHmac } = await import('node:crypto');
    expect(c.body.turn_auth_key).toBe(createHmac('sha1', TURN_SECRET).update(username).digest('base64'));
  });

  test('an app with relayOnly: relay_only 1 (the shim then uses iceTransportPolicy relay)', async () => {
    const tokenR = mintLoginToken({ appid: RELAY_APP, appSign: SIGN, idName: 'rita' });
    const r = new Raw(wsUrl('/ws'), 'rita', 'r1');
    r.appid = RELAY_APP;
    closers.push(r);
    await r.login(1, tokenR);
    const m = new RawMedia(wsUrl('/media'), RELAY_APP, 'rita');
    closers.push(m);
    await m.open();
    await m.login(tokenR, 'r1');
    const c = await m.request('CreateSessionReq', { type: 0, stream_id: 'rr1' });
    expect(c.body).toMatchObject({ result: 0, relay_only: 1, turn_server: TURN_URLS[0] });
  });

  test('a publisher hears CandidateInfoPush (the candidates of the answer) after the answer, and PublishEventPush {event: 0} once up', async () => {
    await roomUser('alice');
    const m = await mediaUser('alice');
    const id = await m.publish('e1');
    const answer = await m.push('MediaDescPush', (b) => b.type === 1);
    const cands = await m.push('CandidateInfoPush');
    expect(cands.header.session_id).toBe(id);
    expect(cands.at!).toBeGreaterThan(answer.at!);
    expect(cands.body.infos).toEqual([
      { candidate: 'candidate:1 1 udp 2015363327 127.0.0.2 20000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    ]);
    const ev = await m.push('PublishEventPush');
    expect(ev.header.session_id).toBe(id);
    expect(ev.body).toMatchObject({ event: 0, stream_id: 'e1' });
  });

  test("the reply to stream 2001 lists the caller's own streams first", async () => {
    const bob = await roomUser('bob');
    const alice = await roomUser('alice');
    await announce(bob, 'b-first');
    const r = await announce(alice, 'a-second');
    const ids = (r.body.stream_info as { stream_id: string }[]).map((s) => s.stream_id);
    expect(ids).toEqual(['a-second', 'b-first']);
  });
});
