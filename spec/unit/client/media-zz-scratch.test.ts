import { FakeVideo } from '../../fakes/FakeMedia';
import { flush } from '../../fakes/FakePlatform';
import { mediaHarness, publishing, withPreview } from '../../fakes/mediaHarness';

test('B early offer push', async () => {
  const h = await mediaHarness();
  h.ms.withhold.add('CreateSessionRsp');
  const video = new FakeVideo();
  h.zg.startPlayingStream('s2', video.el);
  await h.platform.advance(0);
  const req = h.ms.sent('CreateSessionReq')[0]!;
  const sock = h.ms.socket;
  sock.serverSend({ header: { version: '1.0.1', cmd: 'MediaDescPush', appid: '1', seq: 77, user_id: '', session_id: 1001 }, body: { type: 0, sdp: h.ms.offerSdp } });
  sock.serverSend({ header: { ...req.header, cmd: 'CreateSessionRsp' }, body: { result: 0, session_id: 1001 } });
  await h.platform.advance(0);
  console.log('B cmds', h.ms.cmds(), h.media.pcs.length, JSON.stringify(h.mcalls.onPlayStateUpdate));
  await h.platform.advance(5000);
  console.log('B after', JSON.stringify(h.mcalls.onPlayStateUpdate));
});

test('C custom url play without login', async () => {
  const h = await mediaHarness();
  h.zg.logout();
  expect(h.zg.setCustomSignalUrl('ws://media.test/custom')).toBe(true);
  const video = new FakeVideo();
  console.log('C ret', h.zg.startPlayingStream('s2', video.el));
  await h.platform.advance(0);
  console.log('C', JSON.stringify(h.mcalls.onPlayStateUpdate), h.ms.sockets.length);
});

test('D stop during connect leaks socket', async () => {
  const h = await mediaHarness();
  h.ms.withhold.add('LoginRsp');
  const video = await withPreview(h);
  h.zg.startPublishingStream('s1', video.el);
  await h.platform.advance(0);
  h.zg.stopPublishingStream('s1');
  await h.platform.advance(60_000);
  console.log('D1 closed?', h.ms.socket.readyState, h.ms.socket.closedWith);
  const h2 = await mediaHarness();
  h2.ms.withhold.add('CreateSessionRsp');
  const v2 = await withPreview(h2);
  h2.zg.startPublishingStream('s1', v2.el);
  await h2.platform.advance(0);
  h2.zg.stopPublishingStream('s1');
  await h2.platform.advance(60_000);
  console.log('D2 closed?', h2.ms.socket.readyState, h2.ms.socket.closedWith, h2.ms.cmds(true));
});

test('E announce failure', async () => {
  const h = await mediaHarness();
  h.server.handlers.stream = () => ({ err_code: 1000000011 });
  const { pc } = await publishing(h, 's1', { connect: false });
  pc.setIceState('connected');
  await h.platform.advance(0);
  console.log('E', JSON.stringify(h.mcalls.onPublishStateUpdate));
});

test('F media hb misses', async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  await publishing(h);
  h.ms.withhold.add('ClientHBRsp');
  for (let i = 1; i <= 7; i++) {
    await h.platform.advance(10_000);
    console.log('F', i, h.ms.sent('ClientHBReq').length, JSON.stringify(h.mcalls.onPublishStateUpdate.map((s) => s[0])));
  }
});

test('A desc timeout unhandled', async () => {
  const h = await mediaHarness();
  h.ms.withhold.add('MediaDescRsp');
  h.ms.withhold.add('MediaDescPush');
  const video = await withPreview(h);
  h.zg.startPublishingStream('s1', video.el);
  await h.platform.advance(0);
  await h.platform.advance(5000);
  await flush();
  console.log('A', JSON.stringify(h.mcalls.onPublishStateUpdate));
});
