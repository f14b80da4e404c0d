/**
 * Regressions for faults found in the media plane by the fake-backed suites: a push that beats
 * CreateSessionRsp, a server candidate that beats the wait for it, an unanswered MediaDescReq, a stop
 * during session creation, a final failure of a started publish, stale extra info on a retry, a second
 * play of the same id, and the first remote status reporting both devices.
 */
import { FakeVideo, serverSdp } from '../../fakes/FakeMedia';
import { MEDIA_URL, mediaHarness, playing, publishing, withPreview } from '../../fakes/mediaHarness';

test('an offer pushed before CreateSessionRsp is read is still used (no RemoteOffer timeout)', async () => {
  const h = await mediaHarness();
  h.ms.withhold.add('CreateSessionRsp');
  h.ms.withhold.add('MediaDescPush');
  const video = new FakeVideo();
  expect(h.zg.startPlayingStream('s2', video.el)).toBe(true);
  await h.platform.advance(0);
  const socket = h.ms.socket;
  const create = h.ms.sent('CreateSessionReq')[0]!;
  h.ms.withhold.delete('MediaDescPush');
  h.ms.pushOn(socket, 1001, 'MediaDescPush', { type: 0, sdp: serverSdp('offer', true) });
  await h.platform.advance(0);
  socket.serverSend({
    header: {
      version: '1.0.1',
      cmd: 'CreateSessionRsp',
      appid: '1',
      seq: create.header.seq,
      user_id: 'alice',
      session_id: 1001,
    },
    body: { result: 0, session_id: 1001, session_token: '' },
  } as never);
  await h.platform.advance(0);
  h.media.pc.setIceState('connected');
  await h.platform.advance(6000);
  expect(h.mcalls.onPlayStateUpdate).toEqual([[0, 's2', 0]]);
});

test('a server candidate pushed before the client waits for one counts (no ServerCandidate timeout)', async () => {
  const h = await mediaHarness();
  h.ms.offerSdp = serverSdp('offer', false);
  h.ms.pushCandidates = [
    { candidate: 'candidate:1 1 udp 2015363327 127.0.0.2 20000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
  ];
  await playing(h, 's2');
  await h.platform.advance(10_000);
  expect(h.mcalls.onPlayStateUpdate).toEqual([[0, 's2', 0]]);
});

test('no MediaDescRsp and no answer: Timeout.Desc, and no unhandled rejection from the answer wait', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const h = await mediaHarness();
    h.ms.withhold.add('MediaDescRsp');
    h.ms.withhold.add('MediaDescPush');
    await publishing(h, 's1', { connect: false });
    await h.platform.advance(5000);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.mcalls.onPublishStateUpdate).toEqual([
      [1, 's1', { code: 'ZegoPublish.Timeout.Desc', msg: 'send mediaDesc timeout' }],
    ]);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a stop while CreateSessionRsp is pending still closes the idle media socket', async () => {
  const h = await mediaHarness();
  h.ms.withhold.add('CreateSessionRsp');
  const video = await withPreview(h);
  expect(h.zg.startPublishingStream('s1', video.el)).toBe(true);
  await h.platform.advance(0);
  expect(h.zg.stopPublishingStream('s1')).toBe(true);
  const create = h.ms.sent('CreateSessionReq')[0]!;
  h.ms.socket.serverSend({
    header: {
      version: '1.0.1',
      cmd: 'CreateSessionRsp',
      appid: '1',
      seq: create.header.seq,
      user_id: 'alice',
      session_id: 7,
    },
    body: { result: 0, session_id: 7, session_token: '' },
  } as never);
  await h.platform.advance(60_000);
  expect(h.ms.socket.readyState).toBe(3);
  expect(h.ms.cmds()).toContain('CloseSessionReq');
});

test('a started publish that fails for good leaves the room (2002); stopPublishingStream is then false', async () => {
  const h = await mediaHarness();
  await publishing(h, 's1');
  h.ms.closeSession(h.ms.session, 1);
  await h.platform.advance(0);
  expect(h.mcalls.onPublishStateUpdate.at(-1)).toEqual([
    1,
    's1',
    { code: 'ZegoPublish.Error.SessionClosed', msg: 'server session closed reason:1' },
  ]);
  expect(h.streamCmds()).toEqual([
    [2001, 's1'],
    [2002, 's1'],
  ]);
  expect(h.zg.stopPublishingStream('s1')).toBe(false);
});

test('a retry announces the current extra info, not the one given at publish time', async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  const { pc } = await publishing(h, 's1', { extraInfo: 'v1' });
  expect(h.zg.updateStreamExtraInfo('s1', 'v2')).toBe(true);
  await h.platform.advance(0);
  pc.setIceState('failed');
  await h.platform.advance(100);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  const announces = h.server
    .requests('stream')
    .filter((f) => f.body.sub_cmd === 2001)
    .map((f) => (JSON.parse(String(f.body.stream_msg)) as { extra_info: string }).extra_info);
  expect(announces).toEqual(['v1', 'v2']);
  expect(h.mcalls.onPublishStateUpdate.map((x) => x[0])).toEqual([0, 2, 0]);
});

test('startPlayingStream of an id already playing returns false (as 1.12) and keeps the player', async () => {
  const h = await mediaHarness();
  await playing(h, 's2');
  expect(h.zg.startPlayingStream('s2', new FakeVideo().el)).toBe(false);
  expect(h.ms.sent('CreateSessionReq')).toHaveLength(1);
});

test('the first StreamStatusNotifyPush reports both devices (as 1.12); later ones only what changed', async () => {
  const h = await mediaHarness();
  await playing(h, 's2');
  h.ms.streamStatus(h.ms.session, 0, 2);
  await h.platform.advance(0);
  expect(h.mcalls.onRemoteCameraStatusUpdate).toEqual([['s2', 0]]);
  expect(h.mcalls.onRemoteMicStatusUpdate).toEqual([['s2', 2]]);
  h.ms.streamStatus(h.ms.session, 2, 2);
  await h.platform.advance(0);
  expect(h.mcalls.onRemoteCameraStatusUpdate).toEqual([
    ['s2', 0],
    ['s2', 2],
  ]);
  expect(h.mcalls.onRemoteMicStatusUpdate).toEqual([['s2', 2]]);
  expect(MEDIA_URL).toMatch(/^ws:/);
});

test('a publish whose media session is refused for good closes the idle media socket', async () => {
  const h = await mediaHarness();
  h.ms.results.CreateSessionReq = 1; // not a result worth a retry
  const video = await withPreview(h);
  expect(h.zg.startPublishingStream('s1', video.el)).toBe(true);
  await h.platform.advance(0);
  expect(h.ms.sent('CreateSessionReq')).toHaveLength(1);
  await h.platform.advance(60_000);
  expect(h.mcalls.onPublishStateUpdate.at(-1)?.[0]).toBe(1);
  expect(h.ms.socket.readyState).toBe(3);
});

test("an earlier stop's idle close does not cut a media socket a later publish is using", async () => {
  const h = await mediaHarness();
  await publishing(h, 's1');
  expect(h.zg.stopPublishingStream('s1')).toBe(true);
  await h.platform.advance(0);
  const socket = h.ms.socket;
  // 2 s later a second publish starts on the same socket and waits 5 s for its answer; the first stop's
  // idle close (3 s after it) must not cut it.
  await h.platform.advance(2_000);
  h.ms.withhold.add('MediaDescRsp');
  h.ms.withhold.add('MediaDescPush');
  const video = await withPreview(h);
  expect(h.zg.startPublishingStream('s2', video.el)).toBe(true);
  await h.platform.advance(1_500);
  expect(h.ms.sockets).toContain(socket);
  expect(socket.readyState).toBe(1);
  expect(h.mcalls.onPublishStateUpdate.filter((c) => c[1] === 's2')).toEqual([]);
});
