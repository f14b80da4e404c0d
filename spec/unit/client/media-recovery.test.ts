/**
 * Recovery on fakes (issue "Recovery"): a play of a stream listed but not live yet (NotYet) waits and asks
 * again instead of failing; MediaReadyPush cuts a retry's backoff short; after a room reconnection only
 * streams whose publish is live are announced again.
 */
import { FakeVideo } from '../../fakes/FakeMedia';
import { mediaHarness, playing, publishing } from '../../fakes/mediaHarness';

test('NotYet (11): a never-started play reports state 2, asks again after retry_after_ms, then plays', async () => {
  const h = await mediaHarness();
  h.ms.results.CreateSessionReq = 11;
  h.ms.errorExtra.CreateSessionReq = { retry_after_ms: 700 };
  const video = new FakeVideo();
  expect(h.zg.startPlayingStream('s2', video.el)).toBe(true);
  await h.platform.advance(0);
  expect(h.mcalls.onPlayStateUpdate).toEqual([
    [2, 's2', expect.objectContaining({ code: 'ZegoPlay.Error.Session' })],
  ]);
  const creates = () => h.ms.frames.filter((f) => f.header.cmd === 'CreateSessionReq').length;
  expect(creates()).toBe(1);
  await h.platform.advance(699);
  expect(creates()).toBe(1);
  delete h.ms.results.CreateSessionReq;
  await h.platform.advance(1);
  expect(creates()).toBe(2);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  expect(h.mcalls.onPlayStateUpdate.at(-1)).toEqual([0, 's2', 0]);
});

test('NotYet for longer than streamRetryTime ends the play with RetryTimeout', async () => {
  const h = await mediaHarness({ config: { streamRetryTime: 2 } });
  h.ms.results.CreateSessionReq = 11;
  h.ms.errorExtra.CreateSessionReq = { retry_after_ms: 500 };
  expect(h.zg.startPlayingStream('s2', new FakeVideo().el)).toBe(true);
  await h.platform.advance(3000);
  expect(h.mcalls.onPlayStateUpdate.at(-1)).toEqual([
    1,
    's2',
    expect.objectContaining({ code: 'ZegoPlay.Error.RetryTimeout' }),
  ]);
});

test('MediaReadyPush: a play waiting out its backoff after a reset retries at once', async () => {
  const h = await mediaHarness();
  const { pc } = await playing(h, 's2');
  h.platform.setRandom(0.99); // the legacy first retry would wait ~4 s
  h.ms.reset(h.ms.socket);
  await h.platform.advance(0);
  expect(h.mcalls.onPlayStateUpdate.at(-1)).toEqual([2, 's2', expect.anything()]);
  const creates = () => h.ms.frames.filter((f) => f.header.cmd === 'CreateSessionReq').length;
  expect(creates()).toBe(1);
  await h.platform.advance(500);
  expect(creates()).toBe(1);
  h.ms.pushOn(h.ms.socket, 0, 'MediaReadyPush', {});
  await h.platform.advance(0);
  expect(creates()).toBe(2);
  expect(pc).not.toBe(h.media.pc);
});

test('after a room reconnection only live publishes are announced again', async () => {
  const h = await mediaHarness();
  await publishing(h, 'live1');
  const retrying = await publishing(h, 'retry1');
  retrying.pc.setIceState('failed');
  await h.platform.advance(0);
  expect(h.mcalls.onPublishStateUpdate.at(-1)).toEqual([2, 'retry1', expect.anything()]);
  const before = h.server.requests('stream').length;
  // The room socket drops; the client logs in again after its backoff (1-4 s) and re-announces.
  h.platform.sockets.find((x) => x.url === 'ws://fake.test/ws')!.drop(1006, 'cut');
  await h.platform.advance(5000);
  expect(h.server.requests('login').length).toBe(2);
  const announced = h.server
    .requests('stream')
    .slice(before)
    .filter((r) => r.body.sub_cmd === 2001)
    .map((r) => JSON.parse(String(r.body.stream_msg)).stream_id);
  expect(announced).toEqual(['live1']);
});
