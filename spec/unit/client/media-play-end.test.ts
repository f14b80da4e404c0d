/**
 * Players as legacy pages use them, on fakes: playType values other than 'audio' / 'video' play both
 * (1.12, pages' "auto" default), audio-only puts no never-fed video track on the element, and a player
 * whose stream the room deleted ends without an error state whichever of the room's stream-deleted push
 * and the media CloseSessionPush {reason 4} comes first, while a real failure keeps its error.
 */
import { STREAM_END_WAIT_MS } from '../../../src/client/media/StreamSession';
import type { MediaPlatform } from '../../../src/client/platform/Platform';
import { FakeAudio } from '../../fakes/FakeAudio';
import type { FakeMediaStream } from '../../fakes/FakeMedia';
import { mediaHarness, playing, publishing, type MediaHarness } from '../../fakes/mediaHarness';

const states = (h: MediaHarness) => h.mcalls.onPlayStateUpdate;

let roomSeq = 0;
/** The room's stream push (12001 added / 12002 deleted) for stream `id` of user bob. */
function roomPush(h: MediaHarness, cmd: 12001 | 12002, id: string): void {
  // On the room socket (the last socket made may be a media one).
  const room = h.platform.sockets.filter((s) => !s.url.startsWith('ws://media.test/')).at(-1);
  h.server.push(
    'push_stream_update',
    {
      stream_cmd: cmd,
      stream_seq: ++roomSeq,
      stream_info: [
        {
          stream_id: id,
          anchor_id_name: 'bob',
          anchor_nick_name: 'Bob',
          extra_info: '',
          stream_gid: '',
          urls_flv: [],
          urls_m3u8: [],
          urls_rtmp: [],
          urls_https_flv: [],
          urls_https_m3u8: [],
        },
      ],
    },
    room,
  );
}

async function viewer(opts: Parameters<typeof mediaHarness>[0] = {}) {
  roomSeq = 0;
  const h = await mediaHarness(opts);
  const updates: unknown[][] = [];
  h.zg.onStreamUpdated = (...a: unknown[]) => updates.push(a);
  return { h, updates };
}

describe('playType', () => {
  test.each([['auto'], [''], ['all'], [undefined], ['AUDIO'], ['both']])(
    '%p plays both kinds (1.12: anything but "audio" / "video")',
    async (playType) => {
      const h = await mediaHarness();
      const video = (await import('../../fakes/FakeMedia')).FakeVideo;
      const v = new video();
      expect(h.zg.startPlayingStream('s2', v.el, undefined, { playType } as { playType?: string })).toBe(
        true,
      );
      await h.platform.advance(0);
      const pc = h.media.pc;
      expect(pc.transceivers.map((t) => [t.kind, t.direction])).toEqual([
        ['audio', 'recvonly'],
        ['video', 'recvonly'],
      ]);
      expect((v.srcObject as FakeMediaStream).getTracks().map((t) => t.kind)).toEqual(['audio', 'video']);
    },
  );

  test("'audio': the element's stream holds the audio track only (no never-fed video track)", async () => {
    const h = await mediaHarness();
    const { video, pc } = await playing(h, 's2', { playType: 'audio' });
    expect(pc.transceivers.map((t) => [t.kind, t.direction])).toEqual([
      ['audio', 'recvonly'],
      ['video', 'inactive'],
    ]);
    const tracks = (video.srcObject as FakeMediaStream).getTracks();
    expect(tracks.map((t) => t.kind)).toEqual(['audio']);
    expect(tracks[0]).toBe(pc.transceivers[0]!.receiver.track);
  });

  test("'video': video only", async () => {
    const h = await mediaHarness();
    const { video, pc } = await playing(h, 's2', { playType: 'video' });
    expect(pc.transceivers.map((t) => t.direction)).toEqual(['inactive', 'recvonly']);
    expect((video.srcObject as FakeMediaStream).getTracks().map((t) => t.kind)).toEqual(['video']);
  });
});

describe('a publisher leaves: the player ends without an error', () => {
  test('room delete first, then CloseSessionPush {reason 4}: no state after 0, the session closed', async () => {
    const { h, updates } = await viewer();
    const { pc } = await playing(h, 's2');
    roomPush(h, 12002, 's2');
    await h.platform.advance(0);
    expect(updates.map((u) => u[0])).toEqual([1]);
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(60_000);
    expect(states(h)).toEqual([[0, 's2', 0]]);
    expect(pc.closed).toBe(true);
    // The page stops it in its onStreamUpdated, as 1.12 pages do: still true, the element cleared.
    expect(h.zg.stopPlayingStream('s2')).toBe(true);
    expect(h.ms.sent('CreateSessionReq')).toHaveLength(1);
  });

  test(`CloseSessionPush {reason 4} first, the room delete ${STREAM_END_WAIT_MS - 1} ms later: no error`, async () => {
    const { h } = await viewer();
    const { pc } = await playing(h, 's2');
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(0);
    expect(pc.closed).toBe(true);
    await h.platform.advance(STREAM_END_WAIT_MS - 1);
    roomPush(h, 12002, 's2');
    await h.platform.advance(60_000);
    expect(states(h)).toEqual([[0, 's2', 0]]);
    expect(h.ms.sent('CreateSessionReq')).toHaveLength(1);
  });

  test('CloseSessionPush {reason 4} and no room delete within the wait: the error (a real failure)', async () => {
    const { h } = await viewer();
    await playing(h, 's2');
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(STREAM_END_WAIT_MS);
    expect(states(h)).toEqual([
      [0, 's2', 0],
      [1, 's2', { code: 'ZegoPlay.Error.SessionClosed', msg: 'server session closed reason:4' }],
    ]);
    // The late room delete changes nothing.
    roomPush(h, 12002, 's2');
    await h.platform.advance(1000);
    expect(states(h)).toHaveLength(2);
  });

  test('the page stops the player while the close waits: no report at all', async () => {
    const { h } = await viewer();
    await playing(h, 's2');
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(10);
    expect(h.zg.stopPlayingStream('s2')).toBe(true);
    await h.platform.advance(10_000);
    expect(states(h)).toEqual([[0, 's2', 0]]);
  });

  test('room delete, then the connection breaks (ICE failed): no retry, no error', async () => {
    const { h } = await viewer({ config: { testing: { backoffMs: 100 } } });
    const { pc } = await playing(h, 's2');
    roomPush(h, 12002, 's2');
    await h.platform.advance(0);
    pc.setIceState('failed');
    await h.platform.advance(10_000);
    expect(states(h)).toEqual([[0, 's2', 0]]);
    expect(h.ms.sent('CreateSessionReq')).toHaveLength(1);
  });

  test('a player retrying (state 2) when the room deletes its stream stops retrying, with no error', async () => {
    const { h } = await viewer({ config: { testing: { backoffMs: 1000 } } });
    await playing(h, 's2');
    h.ms.closeSession(h.ms.session, 2);
    await h.platform.advance(0);
    expect(states(h).map((s) => s[0])).toEqual([0, 2]);
    roomPush(h, 12002, 's2');
    await h.platform.advance(60_000);
    expect(states(h).map((s) => s[0])).toEqual([0, 2]);
    expect(h.ms.sent('CreateSessionReq')).toHaveLength(1);
  });

  test('the room delete while still negotiating, then a refused session: no error', async () => {
    const { h } = await viewer();
    await playing(h, 's2', { connect: false });
    roomPush(h, 12002, 's2');
    await h.platform.advance(0);
    h.ms.closeSession(h.ms.session, 1);
    await h.platform.advance(60_000);
    expect(states(h)).toEqual([]);
  });

  test('the stream comes back: the ended player gives way to a new play; an error is an error again', async () => {
    const { h } = await viewer();
    await playing(h, 's2');
    roomPush(h, 12002, 's2');
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(0);
    roomPush(h, 12001, 's2');
    await h.platform.advance(0);
    // No stopPlayingStream in between: a new play of the id replaces the ended player.
    await playing(h, 's2');
    expect(h.ms.sent('CreateSessionReq')).toHaveLength(2);
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(STREAM_END_WAIT_MS);
    expect(states(h).map((s) => s[0])).toEqual([0, 0, 1]);
  });

  test('a re-added stream clears the deletion: a later reason-4 close waits again', async () => {
    const { h } = await viewer();
    await playing(h, 's2');
    roomPush(h, 12002, 's2');
    roomPush(h, 12001, 's2');
    await h.platform.advance(0);
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(STREAM_END_WAIT_MS);
    expect(states(h).map((s) => s[0])).toEqual([0, 1]);
  });

  test('another stream deleted in the room does not touch this player', async () => {
    const { h } = await viewer();
    await playing(h, 's2');
    roomPush(h, 12002, 'other');
    await h.platform.advance(0);
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(STREAM_END_WAIT_MS);
    expect(states(h).map((s) => s[0])).toEqual([0, 1]);
  });

  test('a publisher is not concerned: CloseSessionPush {reason 4} to a publisher is an error at once', async () => {
    const h = await mediaHarness();
    await publishing(h, 's1');
    h.ms.closeSession(h.ms.session, 4);
    await h.platform.advance(0);
    expect(h.mcalls.onPublishStateUpdate.map((s) => s[0])).toEqual([0, 1]);
  });

  test('an ended player leaves the sound-level reports (its analyser goes)', async () => {
    const { h } = await viewer();
    const audio = new FakeAudio();
    (h.media as MediaPlatform).createAudioContext = audio.create;
    const reports: { streamID: string }[][] = [];
    (h.zg as unknown as { onSoundLevelUpdate: (l: { streamID: string }[]) => void }).onSoundLevelUpdate = (
      l,
    ) => reports.push(l);
    h.zg.setSoundLevelDelegate(true, 100);
    await publishing(h, 'mine');
    await playing(h, 's2');
    await h.platform.advance(100);
    expect(reports.at(-1)!.map((i) => i.streamID)).toEqual(['mine', 's2']);
    roomPush(h, 12002, 's2');
    await h.platform.advance(0);
    h.ms.closeSession(
      h.ms.sessions.find((x) => x.streamId === 's2')!,
      4,
    );
    await h.platform.advance(100);
    expect(reports.at(-1)!.map((i) => i.streamID)).toEqual(['mine']);
    expect(audio.liveAnalysers).toHaveLength(1);
    expect(states(h)).toEqual([[0, 's2', 0]]);
  });
});
