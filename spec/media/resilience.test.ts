/**
 * The media plane when things break, in real Chromium against the real server and Janus (inside
 * scripts/netns.sh): Janus killed mid-stream, a publisher's page closing.
 */
import { waitForEvent } from '../helpers/browser';
import { events, expectMediaFlowing, loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const suite = useMediaSuite();

test('Janus killed mid-stream: publisher and player report 2 (retry) then 0, frames resume, Janus restarted', async () => {
  const fast = { testing: { backoffMs: 300 } };
  const a = await loggedInPage(suite.context, suite.server.url, 'k-pub', 'kill-room', fast);
  const b = await loggedInPage(suite.context, suite.server.url, 'k-view', 'kill-room', fast);
  await startPreview(a, 'local');
  await publish(a, 'k-s1', 'local', { videoDecodeType: 'VP8' });
  await play(b, 'k-s1', { videoDecodeType: 'VP8' });
  await expectMediaFlowing(b, 'k-s1');
  const before = await suite.server.health();
  const pid = before.media.janusPid as number;
  expect(pid).toBeGreaterThan(0);
  const t0 = Date.now();
  process.kill(pid, 'SIGKILL');
  const pub2 = await waitForEvent(a, 'onPublishStateUpdate', (x) => x[0] === 2, 15_000, t0);
  expect(pub2.args).toEqual([
    2,
    'k-s1',
    { code: expect.stringMatching(/^ZegoPublish\./), msg: expect.any(String) },
  ]);
  const play2 = await waitForEvent(b, 'onPlayStateUpdate', (x) => x[0] === 2, 15_000, t0);
  expect(play2.args[1]).toBe('k-s1');
  const pub0 = await waitForEvent(a, 'onPublishStateUpdate', (x) => x[0] === 0, 30_000, t0);
  const play0 = await waitForEvent(b, 'onPlayStateUpdate', (x) => x[0] === 0, 30_000, t0);
  await expectMediaFlowing(b, 'k-s1');
  const after = await suite.server.health();
  expect(after.media.janusPid).not.toBe(pid);
  expect(after.media.janusStarts).toBe(2);
  // No state 1 on either side, and the viewer never saw the stream leave the room.
  expect((await events(a, 'onPublishStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
  expect((await events(b, 'onPlayStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
  expect((await events(b, 'onStreamUpdated')).filter((x) => x[0] === 1)).toEqual([]);
  console.log(
    `janus kill -> publisher back in ${pub0.t - t0} ms, player back in ${play0.t - t0} ms (backoff 300 ms)`,
  );
  await a.close();
  await b.close();
});

test("a publisher's page closing: the viewer sees the stream end and the server frees its Janus handles", async () => {
  const a = await loggedInPage(suite.context, suite.server.url, 'c-pub', 'close-room');
  const b = await loggedInPage(suite.context, suite.server.url, 'c-view', 'close-room');
  await startPreview(a, 'local');
  await publish(a, 'c-s1', 'local', { videoDecodeType: 'VP8' });
  await play(b, 'c-s1', { videoDecodeType: 'VP8' });
  await a.close({ runBeforeUnload: true });
  const ended = await waitForEvent(b, 'onStreamUpdated', (x) => x[0] === 1, 10_000);
  expect(ended.args[1]).toEqual([expect.objectContaining({ stream_id: 'c-s1' })]);
  await b.evaluate(() =>
    (window as unknown as { zg: { stopPlayingStream(id: string): boolean } }).zg.stopPlayingStream('c-s1'),
  );
  const deadline = Date.now() + 5000;
  let h = await suite.server.health();
  while ((h.media.janusHandles as number) !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    h = await suite.server.health();
  }
  expect(h.media).toMatchObject({ publishers: 0, sessions: 0, janusHandles: 0 });
  await b.close();
});

test("the publisher's room socket drops: it reconnects, keeps publishing, and the viewer never sees the stream end", async () => {
  const fast = { testing: { backoffMs: 300 } };
  const a = await loggedInPage(suite.context, suite.server.url, 'r-pub', 'drop-room', fast);
  const b = await loggedInPage(suite.context, suite.server.url, 'r-view', 'drop-room', fast);
  await startPreview(a, 'local');
  await publish(a, 'r-s1', 'local', { videoDecodeType: 'VP8' });
  await play(b, 'r-s1', { videoDecodeType: 'VP8' });
  await expectMediaFlowing(b, 'r-s1');
  const t0 = Date.now();
  // Close the page's room WebSocket underneath the SDK (no logout), as a network cut would.
  await a.evaluate(() => (window as any).zg.engine.session.conn.socket.close()); // eslint-disable-line @typescript-eslint/no-explicit-any
  await waitForEvent(a, 'onTempBroken', () => true, 5_000, t0);
  await waitForEvent(a, 'onReconnect', () => true, 10_000, t0);
  await expectMediaFlowing(b, 'r-s1');
  await new Promise((r) => setTimeout(r, 1000));
  expect((await events(b, 'onStreamUpdated')).filter((x) => x[0] === 1)).toEqual([]);
  expect((await events(a, 'onPublishStateUpdate')).map((x) => x[0])).toEqual([0]);
  expect((await events(b, 'onPlayStateUpdate')).map((x) => x[0])).toEqual([0]);
  await a.close();
  await b.close();
});
