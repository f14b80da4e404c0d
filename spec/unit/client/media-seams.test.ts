/**
 * The media seams on fakes: a stream's state machine (one setter that checks the move, logs
 * `from -> to` and reports the legacy 0/1/2 once per change), ICE servers from CreateSessionRsp, the
 * serial queue of peer-connection operations, and a LocalSource's audio processing chain swapping the
 * published track without renegotiation.
 */
import type { LogLine } from '../../../src/client/core/Logger';
import { Logger } from '../../../src/client/core/Logger';
import { iceConfigOf, iceServersOf } from '../../../src/client/media/iceServers';
import { QueueClosedError, SerialQueue } from '../../../src/client/media/SerialQueue';
import { StreamSession } from '../../../src/client/media/StreamSession';
import { isFinal, LEGACY_STATE, STREAM_MOVES, type StreamState } from '../../../src/client/media/streamState';
import type { MediaPlatform } from '../../../src/client/platform/Platform';
import { FakeAudio, FakeNode, type FakeAudioContext } from '../../fakes/FakeAudio';
import { FakeMediaPlatform, FakeVideo, type FakeSender } from '../../fakes/FakeMedia';
import { FakePlatform, flush } from '../../fakes/FakePlatform';
import { mediaHarness, playing, publishing, withPreview, type MediaHarness } from '../../fakes/mediaHarness';

/** Every line the client logs from now on (the console stays quiet). */
function lines(h: MediaHarness): LogLine[] {
  const out: LogLine[] = [];
  h.zg.engine.log.configure({ logLevel: 100, remoteLogLevel: 0 });
  h.zg.engine.log.setSink((l) => out.push(l));
  return out;
}

const moves = (log: LogLine[], prefix: string) =>
  log.filter((l) => l.text.startsWith(prefix)).map((l) => l.text.slice(prefix.length));

describe('stream state machine', () => {
  test('the table: final states have no way out, each legacy report belongs to one state', () => {
    const all = Object.keys(STREAM_MOVES) as StreamState[];
    expect(all.filter(isFinal)).toEqual(['failed', 'stopped']);
    for (const s of all) for (const to of STREAM_MOVES[s]) expect(all).toContain(to);
    expect(LEGACY_STATE).toEqual({ live: 0, failed: 1, retrying: 2 });
  });

  test('a publish logs each move from -> to; a retry cycle is one `retrying` however many attempts it takes', async () => {
    const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
    const log = lines(h);
    const { pc } = await publishing(h, 's1');
    expect(moves(log, 'publish s1: ')).toEqual([
      'idle -> dispatching (start)',
      'dispatching -> connecting (dispatched)',
      'connecting -> negotiating (session created)',
      'negotiating -> live (connected)',
    ]);
    // Two failed retries (dispatch refused), then a good one.
    h.server.handlers.webrtc_url = () => ({ err_code: 1009 });
    pc.setIceState('failed');
    await h.platform.advance(200);
    delete h.server.handlers.webrtc_url;
    h.server.handlers.webrtc_url = () => ({ err_code: 0, urls: ['ws://media.test/media'] });
    await h.platform.advance(100);
    h.media.pc.setIceState('connected');
    await h.platform.advance(0);
    expect(moves(log, 'publish s1: ').slice(4)).toEqual([
      'live -> retrying (ConnectionFailed)',
      'retrying -> live (connected)',
    ]);
    expect(h.mcalls.onPublishStateUpdate.map((s) => s[0])).toEqual([0, 2, 0]);
    expect(h.server.requests('webrtc_url')).toHaveLength(4);
    // No move was refused on the way (a retry's steps are not states).
    expect(log.filter((l) => l.level === 3)).toEqual([]);
    h.zg.stopPublishingStream('s1');
    expect(moves(log, 'publish s1: ').at(-1)).toBe('live -> stopped (stop)');
  });

  test('a play that fails before it started goes straight to failed (state 1, no retry)', async () => {
    const h = await mediaHarness();
    const log = lines(h);
    h.ms.results.CreateSessionReq = 5;
    expect(h.zg.startPlayingStream('s2', new FakeVideo().el)).toBe(true);
    await h.platform.advance(0);
    expect(moves(log, 'play s2: ')).toEqual([
      'idle -> dispatching (start)',
      'dispatching -> connecting (dispatched)',
      'connecting -> failed (SessionError: media server unavailable (result 5))',
    ]);
  });

  test('a move the table does not allow is refused and logged as an error, with no report', () => {
    const platform = new FakePlatform();
    const errors: string[] = [];
    const log = new Logger();
    log.configure({ logLevel: 100, remoteLogLevel: 3 });
    log.setSink((l) => errors.push(l.text));
    const state = jest.fn();
    const s = new StreamSession(
      { publish: true, streamId: 'x', customUrls: [], retryTimeS: 1 },
      platform,
      new FakeMediaPlatform(),
      { exchange: () => Promise.reject(new Error('unused')) },
      {
        dispatch: () => Promise.resolve([]),
        signal: () => {
          throw new Error('unused');
        },
        announce: () => Promise.resolve(),
        state,
      },
      log,
    );
    const transition = (
      s as unknown as { transition(to: StreamState, why: string): boolean }
    ).transition.bind(s);
    expect(transition('live', 'test')).toBe(false);
    expect(s.state).toBe('idle');
    expect(state).not.toHaveBeenCalled();
    expect(errors).toEqual(['stream x: refused move idle -> live (test)']);
    s.stop();
    expect(s.state).toBe('stopped');
    expect(transition('dispatching', 'test')).toBe(false);
  });
});

describe('ICE servers from CreateSessionRsp', () => {
  test('empty strings (our server until TURN lands): iceServers []', async () => {
    const h = await mediaHarness();
    const { pc } = await publishing(h, 's1');
    expect(pc.config).toEqual({ iceServers: [] });
  });

  test('TURN with its credentials and STUN, as the server names them (never hard-coded)', async () => {
    const h = await mediaHarness();
    h.ms.ice = {
      turn_server: 'turn:10.0.0.9:3478?transport=udp',
      stun_server: '10.0.0.9:3478',
      turn_username: '1700000000:alice',
      turn_auth_key: 'c2VjcmV0',
    };
    const { pc } = await playing(h, 's2');
    expect(pc.config.iceServers).toEqual([
      { urls: 'turn:10.0.0.9:3478?transport=udp', username: '1700000000:alice', credential: 'c2VjcmV0' },
      { urls: 'stun:10.0.0.9:3478' },
    ]);
  });

  test('iceServersOf: schemes kept or added, blanks and non-strings ignored', () => {
    expect(iceServersOf({})).toEqual([]);
    expect(iceServersOf({ turn_server: ' ', stun_server: '' })).toEqual([]);
    expect(iceServersOf({ turn_server: 'turns:t.example:5349' })).toEqual([
      { urls: 'turns:t.example:5349', username: '', credential: '' },
    ]);
    expect(iceServersOf({ stun_server: 'stun:s.example' })).toEqual([{ urls: 'stun:s.example' }]);
    expect(iceServersOf({ turn_server: 42 as unknown as string })).toEqual([]);
  });

  test('iceServersOf: a TURN URL in stun_server (what our server sends the original SDK) gets the credentials', () => {
    expect(
      iceServersOf({
        turn_server: 'turn:t:3478?transport=udp',
        stun_server: 'turns:t:443?transport=tcp',
        turn_username: 'u',
        turn_auth_key: 'k',
      }),
    ).toEqual([
      { urls: 'turn:t:3478?transport=udp', username: 'u', credential: 'k' },
      { urls: 'turns:t:443?transport=tcp', username: 'u', credential: 'k' },
    ]);
  });

  test('iceConfigOf: turn_urls (extension) gives one server with every URL; relay_only 1 forces relay, only with TURN', () => {
    const rsp = {
      turn_server: 'turn:t:3478?transport=udp',
      stun_server: 'turns:t:443?transport=tcp',
      turn_username: 'u',
      turn_auth_key: 'k',
      turn_urls: ['turn:t:3478?transport=udp', 'turns:t:443?transport=tcp', 'turn:t:3478?transport=tcp', 'x'],
    };
    const urls = ['turn:t:3478?transport=udp', 'turns:t:443?transport=tcp', 'turn:t:3478?transport=tcp'];
    expect(iceConfigOf(rsp)).toEqual({ iceServers: [{ urls, username: 'u', credential: 'k' }] });
    expect(iceConfigOf({ ...rsp, relay_only: 1 })).toEqual({
      iceServers: [{ urls, username: 'u', credential: 'k' }],
      iceTransportPolicy: 'relay',
    });
    // No TURN server: relay-only could never connect, so the policy stays 'all'.
    expect(iceConfigOf({ turn_server: '', stun_server: '', relay_only: 1 })).toEqual({ iceServers: [] });
  });
});

describe('SerialQueue', () => {
  test('a task starts only once the one before it settled (failed ones too)', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let release = () => {};
    const first = q.push(
      () =>
        new Promise<void>((r) => {
          log.push('first starts');
          release = () => {
            log.push('first ends');
            r();
          };
        }),
    );
    const second = q.push(() => {
      log.push('second');
      throw new Error('boom');
    });
    const third = q.push(() => log.push('third'));
    await flush();
    expect(log).toEqual(['first starts']);
    release();
    await first;
    await expect(second).rejects.toThrow('boom');
    await third;
    expect(log).toEqual(['first starts', 'first ends', 'second', 'third']);
  });

  test('closed: tasks not started reject with QueueClosedError and never run', async () => {
    const q = new SerialQueue();
    const ran = jest.fn();
    const p = q.push(ran);
    q.close();
    await expect(p).rejects.toBeInstanceOf(QueueClosedError);
    await expect(q.push(ran)).rejects.toBeInstanceOf(QueueClosedError);
    expect(ran).not.toHaveBeenCalled();
  });
});

describe('LocalSource: the audio processing chain', () => {
  async function withChain() {
    const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
    const audio = new FakeAudio();
    (h.media as MediaPlatform).createAudioContext = audio.create;
    const { video, pc } = await publishing(h, 's1');
    const audioSender = () =>
      pc.getSenders().find((s) => s.track?.kind === 'audio' || s.replaced.length > 0) as FakeSender;
    return { h, audio, video, pc, audioSender };
  }

  test('off by default: the captured tracks are published as they are, no AudioContext', async () => {
    const { h, audio, pc } = await withChain();
    expect(audio.contexts).toHaveLength(0);
    const mic = h.media.tracks.find((t) => t.kind === 'audio');
    expect(pc.getSenders().map((s) => s.track)).toContain(mic);
  });

  test('on: the chain output replaces the microphone track in place (no new offer); off puts it back', async () => {
    const { h, audio, video, pc, audioSender } = await withChain();
    const mic = h.media.tracks.find((t) => t.kind === 'audio')!;
    const effect = new FakeNode('effect');
    await h.zg.engine.media.setAudioProcessing(video.el, true, [effect]);
    const ctx = audio.contexts[0] as FakeAudioContext;
    const dest = ctx.destinations[0]!;
    // source(mic) -> effect -> destination; the destination's track is what goes out.
    expect(ctx.sources[0]!.track).toBe(mic);
    expect(ctx.sources[0]!.connectedTo).toBe(effect);
    expect(effect.connectedTo).toBe(dest);
    expect(audioSender().replaced).toEqual([dest.track]);
    expect(h.media.pcs).toHaveLength(1);
    expect(pc.calls.filter((c) => c === 'createOffer')).toHaveLength(1);
    // The captured stream (preview, sound level) keeps the microphone.
    expect(video.srcObject).toBe(h.zg.engine.media.previews.get(video.el)!.stream);
    await h.zg.engine.media.setAudioProcessing(video.el, false);
    expect(audioSender().replaced).toEqual([dest.track, mic]);
    expect(ctx.state).toBe('closed');
    expect(h.mcalls.onPublishStateUpdate).toEqual([[0, 's1', 0]]);
  });

  test('switching the microphone with the chain on rewires its input: the published track stays', async () => {
    const { h, audio, video, audioSender } = await withChain();
    await h.zg.engine.media.setAudioProcessing(video.el, true);
    const ctx = audio.contexts[0] as FakeAudioContext;
    const done = jest.fn();
    expect(h.zg.switchDevice('audio', video.el, 'mic2', done)).toBe(true);
    await h.platform.advance(0);
    expect(done).toHaveBeenCalledTimes(1);
    const fresh = h.media.tracks.at(-1)!;
    expect(ctx.sources.at(-1)!.track).toBe(fresh);
    expect(ctx.sources.at(-1)!.connectedTo).toBe(ctx.destinations[0]);
    expect(ctx.sources[0]!.connectedTo).toBeNull();
    expect(audioSender().replaced).toEqual([ctx.destinations[0]!.track]);
  });

  test('a retry after a break publishes the chain output from its first offer', async () => {
    const { h, audio, video, pc } = await withChain();
    await h.zg.engine.media.setAudioProcessing(video.el, true);
    pc.setIceState('failed');
    await h.platform.advance(100);
    const pc2 = h.media.pc;
    expect(pc2).not.toBe(pc);
    const out = (audio.contexts[0] as FakeAudioContext).destinations[0]!.track;
    expect(pc2.transceivers.map((t) => t.sender.track)).toContain(out);
  });

  test('without Web Audio the chain is refused with a clear error, the publish unchanged', async () => {
    const h = await mediaHarness();
    const video = await withPreview(h);
    await expect(h.zg.engine.media.setAudioProcessing(video.el, true)).rejects.toThrow(
      'no Web Audio here: audio processing unavailable',
    );
  });
});
