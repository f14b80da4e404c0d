/**
 * zg.stateCenter on fakes: the fields of 1.12.5's StateCenter that pages read, under its names, live
 * through config, login (role readable in the login callback), streams, publishing and logout, and not
 * writable by the page.
 */
import { ZegoClient } from '../../../src/client/compat/ZegoClient';
import { loggedIn, newHarness } from '../../fakes/clientHarness';
import { mediaHarness, publishing } from '../../fakes/mediaHarness';
import { FakePlatform } from '../../fakes/FakePlatform';

const KEPT = [
  'appid',
  'idName',
  'nickName',
  'server',
  'serverBak',
  'configOK',
  'testEnvironment',
  'roomid',
  'role',
  'token',
  'third_token',
  'userid',
  'sessionid',
  'runState',
  'userStateUpdate',
  'roomCreateFlag',
  'streamList',
  'publishStreamList',
  'anchor_info',
  'roomRetryTime',
  'streamRetryTime',
  'heartbeatInterval',
  'serverTimeOffset',
];

const wire = (id: string, by: string) => ({
  stream_id: id,
  anchor_id_name: by,
  anchor_nick_name: by.toUpperCase(),
  extra_info: `x-${id}`,
  stream_gid: '',
  urls_flv: [],
  urls_m3u8: [],
  urls_rtmp: [],
  urls_https_flv: [],
  urls_https_m3u8: [],
});

test('before config: 1.12.5 defaults, enumerable under its names', () => {
  const zg = new ZegoClient(new FakePlatform());
  const sc = zg.stateCenter;
  expect(Object.keys(sc).sort()).toEqual([...KEPT].sort());
  expect(sc).toMatchObject({
    configOK: false,
    testEnvironment: false,
    third_token: '',
    runState: 0,
    roomCreateFlag: 1,
    streamList: [],
    publishStreamList: {},
    anchor_info: { anchor_id: '', anchor_id_name: '', anchor_nick_name: '' },
    roomRetryTime: 300,
    streamRetryTime: 300,
    serverTimeOffset: 0,
  });
  for (const k of ['appid', 'idName', 'nickName', 'server', 'roomid', 'role', 'token', 'userid', 'sessionid'])
    expect(sc[k as keyof typeof sc]).toBeUndefined();
  expect(sc.isLogin()).toBe(false);
});

test('after config: appid, idName, nickName, server / serverBak, configOK, retry times', () => {
  const platform = new FakePlatform();
  const zg = new ZegoClient(platform);
  zg.config({
    appid: 7,
    idName: 'alice',
    nickName: 'Alice',
    server: ['ws://a.test/ws', 'ws://b.test/ws'],
    audienceCreateRoom: false,
    maxRetryTime: 60,
  });
  expect(zg.stateCenter).toMatchObject({
    appid: 7,
    idName: 'alice',
    nickName: 'Alice',
    server: 'ws://a.test/ws',
    serverBak: 'ws://b.test/ws',
    configOK: true,
    roomCreateFlag: 0,
    roomRetryTime: 60,
    streamRetryTime: 60,
  });
  zg.config({ appid: 7, idName: 'alice', nickName: 'Alice', server: 'ws://a.test/ws', streamRetryTime: 20 });
  expect(zg.stateCenter).toMatchObject({
    serverBak: 'ws://a.test/ws',
    roomRetryTime: 300,
    streamRetryTime: 20,
  });
});

test('role, roomid and token are set by the login call; userid, sessionid, anchor_info by its reply; role readable in the login callback', async () => {
  const h = newHarness({
    login: { anchor_info: { anchor_id: 'bob', anchor_id_name: 'bob', anchor_nick_name: 'Bob' } },
  });
  const sc = h.zg.stateCenter;
  const inCallback: unknown[] = [];
  h.zg.loginWithAuthor('room1', 2, 'tok', 'third', () =>
    inCallback.push(sc.role, sc.runState, sc.isLogin(), sc.userid),
  );
  expect(sc).toMatchObject({ roomid: 'room1', role: 2, token: 'tok', third_token: 'third', runState: 1 });
  expect(sc.userid).toBe('');
  await h.platform.advance(0);
  expect(inCallback).toEqual([2, 2, true, 'uid-alice']);
  expect(sc).toMatchObject({
    userid: 'uid-alice',
    sessionid: 'sess-1',
    runState: 2,
    anchor_info: { anchor_id: 'bob', anchor_id_name: 'bob', anchor_nick_name: 'Bob' },
    heartbeatInterval: 10_000,
  });
});

test('runState 1 while logging in and while reconnecting', async () => {
  const h = await loggedIn({ config: { testing: { backoffMs: 1000 } } });
  const sc = h.zg.stateCenter;
  expect(sc.runState).toBe(2);
  h.server.socket.drop();
  await h.platform.advance(0);
  expect(sc.runState).toBe(1);
  expect(sc.isLogin()).toBe(false);
  await h.platform.advance(1000);
  expect(sc.runState).toBe(2);
});

test('streamList: the login list, pushes, then own streams the room accepted; copies, never the live state', async () => {
  const h = await mediaHarness({ login: { stream_seq: 1, stream_info: [wire('b1', 'bob')] } });
  const sc = h.zg.stateCenter;
  expect(sc.streamList).toEqual([wire('b1', 'bob')]);
  h.server.push('push_stream_update', {
    stream_cmd: 12001,
    stream_seq: 2,
    stream_info: [wire('c1', 'carol')],
  });
  await h.platform.advance(0);
  expect(sc.streamList.map((s) => s.stream_id)).toEqual(['b1', 'c1']);
  h.server.push('push_stream_update', { stream_cmd: 12002, stream_seq: 3, stream_info: [wire('b1', 'bob')] });
  await h.platform.advance(0);
  expect(sc.streamList.map((s) => s.stream_id)).toEqual(['c1']);

  const { video } = await publishing(h, 'mine', { connect: false });
  expect(sc.publishStreamList).toEqual({ mine: { state: 2, extra_info: 'extra' } });
  expect(sc.streamList.map((s) => s.stream_id)).toEqual(['c1']);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  expect(sc.publishStreamList).toEqual({ mine: { state: 4, extra_info: 'extra' } });
  expect(sc.streamList.at(-1)).toMatchObject({
    stream_id: 'mine',
    anchor_id_name: 'alice',
    anchor_nick_name: 'Alice',
    extra_info: 'extra',
  });
  expect(video).toBeDefined();

  // The page cannot change the SDK's lists through what it read.
  sc.streamList.pop();
  (sc.publishStreamList as Record<string, unknown>).mine = null;
  expect(sc.streamList.map((s) => s.stream_id)).toEqual(['c1', 'mine']);
  expect(sc.publishStreamList.mine).toEqual({ state: 4, extra_info: 'extra' });

  h.zg.stopPublishingStream('mine');
  expect(sc.publishStreamList).toEqual({});
  expect(sc.streamList.map((s) => s.stream_id)).toEqual(['c1']);
});

test('logout: runState 0, userid and sessionid empty, lists empty; the login arguments stay', async () => {
  const h = await loggedIn();
  const sc = h.zg.stateCenter;
  h.zg.logout();
  expect(sc).toMatchObject({
    runState: 0,
    userid: '',
    sessionid: '',
    streamList: [],
    publishStreamList: {},
    roomid: 'room1',
    role: 1,
    token: 'token',
  });
  expect(sc.isLogin()).toBe(false);
});

test('read-only: writes throw in strict code (ignored in sloppy pages) and change nothing', async () => {
  const h = await loggedIn();
  const sc = h.zg.stateCenter as unknown as Record<string, unknown>;
  expect(() => {
    sc.role = 2;
  }).toThrow(TypeError);
  expect(() => {
    sc.extra = 1;
  }).toThrow(TypeError);
  expect(sc.role).toBe(1);
  expect(sc.extra).toBeUndefined();
});

test('userStateUpdate follows setUserStateUpdate', () => {
  const zg = new ZegoClient(new FakePlatform());
  expect(zg.stateCenter.userStateUpdate).toBe(false);
  zg.setUserStateUpdate(true);
  expect(zg.stateCenter.userStateUpdate).toBe(true);
});
