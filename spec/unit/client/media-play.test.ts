/**
 * Playing through ZegoClient on fakes: the server offers (negotiate_mode 1), the client answers; the
 * remote stream on the element; state 0 once ICE is up; every ZegoPlay.* error raised by its real cause
 * (each timeout by its own timer) and the retries after a break.
 */
import {
  CHROME_ANSWER,
  FakeMediaStream,
  FakeVideo,
  HOST_CANDIDATE,
  serverSdp,
  SERVER_CANDIDATE,
} from '../../fakes/FakeMedia';
import { MEDIA_URL, mediaHarness, playing, type MediaHarness } from '../../fakes/mediaHarness';
import { STREAM_END_WAIT_MS } from '../../../src/client/media/StreamSession';

const states = (h: MediaHarness) => h.mcalls.onPlayStateUpdate;

test('happy path: CreateSessionReq{type 1, negotiate_mode 1}, the server offer, MediaDescReq{type 1} with the candidates; state 0 after ICE', async () => {
  const h = await mediaHarness();
  const { video, pc } = await playing(h, 's2', { connect: false });

  const [dispatch] = h.server.requests('webrtc_url');
  expect(dispatch!.body).toMatchObject({ stream_id: 's2', ptype: 'pull' });
  expect(h.ms.sockets.map((s) => s.url)).toEqual([MEDIA_URL]);
  expect(h.ms.cmds()).toEqual([
    'LoginReq',
    'CreateSessionReq',
    'MediaDescAck',
    'MediaDescReq',
    'CandidateInfoReq',
  ]);
  const [, create, ack, desc, cand] = h.ms.frames;
  expect(create!.body).toMatchObject({ type: 1, stream_id: 's2', negotiate_mode: 1, strAuthParam: '' });
  const sid = h.ms.session.id;
  expect(ack!.header).toMatchObject({ cmd: 'MediaDescAck', session_id: sid });
  expect(desc!.header).toMatchObject({ session_id: sid });
  // Chromium answers a=setup:active; we answer passive, so Janus opens DTLS once its ICE is ready
  // (docs/protocol.md, TURN in CreateSessionRsp): what is set locally is what is sent.
  const passive = CHROME_ANSWER.replace(/a=setup:active/g, 'a=setup:passive');
  expect(CHROME_ANSWER).toContain('a=setup:active');
  expect(desc!.body).toEqual({ type: 1, sdp: passive });
  expect(pc.localDescription).toEqual({ type: 'answer', sdp: passive });
  expect(cand!.body).toEqual({ infos: [HOST_CANDIDATE, { candidate: '' }] });

  // The offer was applied, both kinds received, the answer created and set.
  expect(pc.calls).toEqual(['setRemoteDescription:offer', 'createAnswer', 'setLocalDescription:answer']);
  expect(pc.remoteDescription).toEqual({ type: 'offer', sdp: serverSdp('offer', true) });
  expect(pc.transceivers.map((t) => [t.kind, t.direction])).toEqual([
    ['audio', 'recvonly'],
    ['video', 'recvonly'],
  ]);
  // The remote stream is on the element (once), with the received tracks.
  expect(video.srcObject).toBeInstanceOf(FakeMediaStream);
  expect((video.srcObject as FakeMediaStream).getTracks()).toEqual(
    pc.transceivers.map((t) => t.receiver.track),
  );
  expect(video.plays).toBe(1);

  await h.platform.advance(2000);
  expect(states(h)).toEqual([]);
  pc.setIceState('connected');
  await h.platform.advance(0);
  expect(states(h)).toEqual([[0, 's2', 0]]);
  // A player never touches the room's stream list.
  expect(h.streamCmds()).toEqual([]);
  // onVideoSizeChanged from the element's resize.
  video.resize(640, 360);
  expect(h.mcalls.onVideoSizeChanged).toEqual([['s2', 640, 360]]);
});

test("playType 'audio': the video transceiver is inactive", async () => {
  const h = await mediaHarness();
  const { pc } = await playing(h, 's2', { playType: 'audio' });
  expect(pc.transceivers.map((t) => [t.kind, t.direction])).toEqual([
    ['audio', 'recvonly'],
    ['video', 'inactive'],
  ]);
});

test('startPlayingStream: false for a bad id, no element, or not logged in', async () => {
  const h = await mediaHarness();
  const v = new FakeVideo();
  expect(h.zg.startPlayingStream('', v.el)).toBe(false);
  expect(h.zg.startPlayingStream('s2', null as unknown as HTMLMediaElement)).toBe(false);
  h.zg.logout();
  expect(h.zg.startPlayingStream('s2', v.el)).toBe(false);
});

test('stopPlayingStream: closes the session and the peer connection, clears the element, reports nothing', async () => {
  const h = await mediaHarness();
  const { video, pc } = await playing(h);
  const sid = h.ms.session.id;
  expect(h.zg.stopPlayingStream('s2')).toBe(true);
  await h.platform.advance(0);
  expect(pc.closed).toBe(true);
  expect(video.srcObject).toBeNull();
  expect(h.ms.sent('CloseSessionReq').map((f) => f.header.session_id)).toEqual([sid]);
  expect(h.zg.stopPlayingStream('s2')).toBe(false);
  await h.platform.advance(10_000);
  expect(states(h)).toEqual([[0, 's2', 0]]);
});

// ------------------------------------------------------------------------------------------- errors

interface ErrorCase {
  name: string;
  code: string;
  msg: string;
  setup?(h: MediaHarness): void;
  trigger?(h: MediaHarness): void;
  at?: number;
}

const boom = (what: string) => new Error(`${what} failed`);

const CASES: ErrorCase[] = [
  {
    name: 'dispatch reply err_code != 0',
    code: 'ZegoPlay.Error.Dispatch',
    msg: 'dispatch request error',
    setup: (h) => (h.server.handlers.webrtc_url = () => ({ err_code: 1009 })),
  },
  {
    name: 'dispatch reply without URLs',
    code: 'ZegoPlay.Error.Dispatch',
    msg: 'dispatch request error',
    setup: (h) =>
      (h.server.handlers.webrtc_url = () => ({ err_code: 0, urls: [], need_action: 0, action_delay: 0 })),
  },
  {
    // The room send queue times dispatch: its 2 s sweep fails requests older than 5 s, so 6 s here.
    name: 'no dispatch reply (room send-queue sweep)',
    code: 'ZegoPlay.Timeout.Dispatch',
    msg: 'dispatch request timeout',
    setup: (h) => h.server.muted.add('webrtc_url'),
    at: 6000,
  },
  {
    name: 'LoginRsp result 1',
    code: 'ZegoPlay.Error.Token',
    msg: 'login token error: token error',
    setup: (h) => (h.ms.results.LoginReq = 1),
  },
  {
    name: 'no CreateSessionRsp',
    code: 'ZegoPlay.Timeout.Session',
    msg: 'send session request timeout',
    setup: (h) => h.ms.withhold.add('CreateSessionRsp'),
    at: 5000,
  },
  {
    name: 'CreateSessionRsp result 6 (stream not found)',
    code: 'ZegoPlay.Error.Session',
    msg: 'create session error: stream not found (result 6)',
    setup: (h) => (h.ms.results.CreateSessionReq = 6),
  },
  {
    name: 'no MediaDescPush (the server offer)',
    code: 'ZegoPlay.Timeout.RemoteOffer',
    msg: 'waiting server mediaDesc timeout',
    setup: (h) => h.ms.withhold.add('MediaDescPush'),
    at: 5000,
  },
  {
    name: 'MediaDescPush is not an offer',
    code: 'ZegoPlay.Error.RemoteOffer',
    msg: 'other side offer error',
    setup: (h) => (h.ms.offerType = 1),
  },
  {
    name: 'setRemoteDescription(offer) rejects',
    code: 'ZegoPlay.Error.RemoteOffer',
    msg: 'other side offer error: setRemoteDescription failed',
    setup: (h) => (h.media.fail.setRemoteDescription = boom('setRemoteDescription')),
  },
  {
    name: 'createAnswer rejects',
    code: 'ZegoPlay.Error.CreateAnswer',
    msg: 'create answer error: createAnswer failed',
    setup: (h) => (h.media.fail.createAnswer = boom('createAnswer')),
  },
  {
    name: 'setLocalDescription(answer) rejects',
    code: 'ZegoPlay.Error.LocalDesc',
    msg: 'setLocalDescription error: setLocalDescription failed',
    setup: (h) => (h.media.fail.setLocalDescription = boom('setLocalDescription')),
  },
  {
    name: 'no MediaDescRsp',
    code: 'ZegoPlay.Timeout.Desc',
    msg: 'send mediaDesc timeout',
    setup: (h) => h.ms.withhold.add('MediaDescRsp'),
    at: 5000,
  },
  {
    name: 'no CandidateInfoRsp',
    code: 'ZegoPlay.Timeout.Candidate',
    msg: 'send candidate timeout',
    setup: (h) => h.ms.withhold.add('CandidateInfoRsp'),
    at: 5000,
  },
  {
    name: 'offer without candidates and no CandidateInfoPush',
    code: 'ZegoPlay.Timeout.ServerCandidate',
    msg: 'waiting candidate timeout',
    setup: (h) => (h.ms.offerSdp = serverSdp('offer', false)),
    at: 5000,
  },
  {
    name: 'addIceCandidate rejects a pushed candidate',
    code: 'ZegoPlay.Error.ServerCandidate',
    msg: 'recv candidate error',
    setup: (h) => {
      h.ms.offerSdp = serverSdp('offer', false);
      h.ms.pushCandidates = [{ candidate: SERVER_CANDIDATE, sdpMid: '0', sdpMLineIndex: 0 }];
      h.media.fail.addIceCandidate = boom('addIceCandidate');
    },
  },
  {
    name: "ICE 'failed' before the start",
    code: 'ZegoPlay.Error.ConnectionFailed',
    msg: 'ice Connection state failed',
    trigger: (h) => h.media.pc.setIceState('failed'),
  },
  {
    // The room still lists the stream: after waiting STREAM_END_WAIT_MS for its deletion, an error.
    name: 'CloseSessionPush reason 4 (the stream ended) and no room deletion',
    code: 'ZegoPlay.Error.SessionClosed',
    msg: 'server session closed reason:4',
    trigger: (h) => h.ms.closeSession(h.ms.session, 4),
    at: STREAM_END_WAIT_MS,
  },
  {
    name: 'media socket dropped before the start',
    code: 'ZegoPlay.Error.SocketError',
    msg: 'network error: media socket closed',
    trigger: (h) => h.ms.socket.drop(),
  },
  {
    name: 'media socket refused',
    code: 'ZegoPlay.Error.SocketError',
    msg: 'network error: media socket connect failed',
    setup: (h) => (h.ms.refuseConnections = true),
  },
];

describe.each(CASES)('error: $name', (c) => {
  test(`-> state 1 {${c.code}}`, async () => {
    const h = await mediaHarness();
    c.setup?.(h);
    const video = new FakeVideo();
    expect(h.zg.startPlayingStream('s2', video.el)).toBe(true);
    await h.platform.advance(0);
    c.trigger?.(h);
    if (c.at !== undefined) {
      await h.platform.advance(c.at - 1);
      expect(states(h)).toEqual([]);
      await h.platform.advance(1);
    } else await h.platform.advance(0);
    expect(states(h)).toHaveLength(1);
    const [type, id, err] = states(h)[0]!;
    expect([type, id]).toEqual([1, 's2']);
    expect(err).toStrictEqual({ code: c.code, msg: c.msg });
    await h.platform.advance(60_000);
    expect(states(h)).toHaveLength(1);
    for (const pc of h.media.pcs) expect(pc.closed).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------ retries

test("after the start, ICE 'failed' -> state 2, then a new session and offer -> state 0 again", async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  const { pc, video } = await playing(h);
  pc.setIceState('failed');
  await h.platform.advance(0);
  expect(states(h)).toEqual([
    [0, 's2', 0],
    [2, 's2', { code: 'ZegoPlay.Error.ConnectionFailed', msg: 'ice Connection state failed' }],
  ]);
  await h.platform.advance(100);
  expect(h.ms.sent('CreateSessionReq')).toHaveLength(2);
  const pc2 = h.media.pc;
  expect(pc2).not.toBe(pc);
  // The new remote stream replaces the old one on the element.
  expect((video.srcObject as FakeMediaStream).getTracks()).toEqual(
    pc2.transceivers.map((t) => t.receiver.track),
  );
  pc2.setIceState('connected');
  await h.platform.advance(0);
  expect(states(h).map((s) => s[0])).toEqual([0, 2, 0]);
});

test('after the start, CloseSessionPush reason 2 (media-server restart) -> state 2, then state 0 again', async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  await playing(h);
  h.ms.closeSession(h.ms.session, 2);
  await h.platform.advance(0);
  expect(h.ms.sent('CloseSessionAck')).toHaveLength(1);
  expect(states(h).slice(1)).toEqual([
    [2, 's2', { code: 'ZegoPlay.Error.SessionClosed', msg: 'server session closed reason:2' }],
  ]);
  await h.platform.advance(100);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  expect(states(h).map((s) => s[0])).toEqual([0, 2, 0]);
});

test('after the start, CloseSessionPush reason 4 (the stream ended) with the stream still in the room is final: state 1 after the wait', async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  const { pc } = await playing(h);
  h.ms.closeSession(h.ms.session, 4);
  await h.platform.advance(0);
  // The attempt is over at once (the server closed its session); only the report waits.
  expect(pc.closed).toBe(true);
  await h.platform.advance(STREAM_END_WAIT_MS - 1);
  expect(states(h).slice(1)).toEqual([]);
  await h.platform.advance(1);
  expect(states(h).slice(1)).toEqual([
    [1, 's2', { code: 'ZegoPlay.Error.SessionClosed', msg: 'server session closed reason:4' }],
  ]);
  await h.platform.advance(60_000);
  expect(h.ms.sent('CreateSessionReq')).toHaveLength(1);
});

test('retry budget spent -> state 1 ZegoPlay.Error.RetryTimeout', async () => {
  const h = await mediaHarness({ config: { streamRetryTime: 1, testing: { backoffMs: 400 } } });
  const { pc } = await playing(h);
  h.ms.results.CreateSessionReq = 6;
  pc.setIceState('failed');
  await h.platform.advance(0);
  // Attempts at 400 and 800 ms fail (stream not found); the next wait (to 1200 ms) passes the budget.
  await h.platform.advance(799);
  expect(states(h).map((s) => s[0])).toEqual([0, 2]);
  await h.platform.advance(1);
  expect(h.ms.sent('CreateSessionReq')).toHaveLength(3);
  expect(states(h)[2]).toEqual([1, 's2', { code: 'ZegoPlay.Error.RetryTimeout', msg: 'retry timeout' }]);
});
