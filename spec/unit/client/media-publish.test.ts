/**
 * Publishing through ZegoClient on fakes: dispatch on the room socket, the media socket's frames, state 0
 * only once ICE is up and the room has the stream, every ZegoPublish.* error raised by its real cause
 * (each timeout by its own timer), and the retries after a break.
 */
import { HOST_CANDIDATE, serverSdp, SERVER_CANDIDATE } from '../../fakes/FakeMedia';
import { flush } from '../../fakes/FakePlatform';
import {
  MEDIA_URL,
  mediaHarness,
  publishing,
  withPreview,
  type MediaHarness,
} from '../../fakes/mediaHarness';

const states = (h: MediaHarness) => h.mcalls.onPublishStateUpdate;

test('happy path: dispatch, then LoginReq, CreateSessionReq{type 0}, MediaDescReq{type 0}, CandidateInfoReq; state 0 after ICE and the 2001 reply', async () => {
  const h = await mediaHarness();
  h.server.muted.add('stream');
  const { pc } = await publishing(h, 's1', { connect: false, extraInfo: 'hello' });

  // Dispatch went over the room socket.
  const [dispatch] = h.server.requests('webrtc_url');
  expect(dispatch!.body).toEqual({
    stream_id: 's1',
    ptype: 'push',
    signals: [],
    header_kvs: [{ key: 'grpc-metadata-push', value: '' }],
    retry: 0,
  });
  expect(h.ms.sockets.map((s) => s.url)).toEqual([MEDIA_URL]);

  // Media frames, in order.
  expect(h.ms.cmds()).toEqual([
    'LoginReq',
    'CreateSessionReq',
    'MediaDescReq',
    'MediaDescAck',
    'CandidateInfoReq',
  ]);
  const [login, create, desc, ack, cand] = h.ms.frames;
  expect(login).toEqual({
    header: { version: '1.0.1', cmd: 'LoginReq', appid: '1', seq: 1, user_id: 'alice', session_id: 0 },
    body: { token: 'token', tokenType: 0, roomid: 'room1', anchorname: 'alice', sdkversion: '1.12.5' },
  });
  expect(create!.header).toMatchObject({ seq: 2, session_id: 0 });
  expect(create!.body).toMatchObject({ type: 0, stream_id: 's1', negotiate_mode: 0, strAuthParam: '' });
  const sid = h.ms.session.id;
  expect(desc!.header).toMatchObject({ seq: 3, session_id: sid });
  expect(desc!.body).toEqual({
    type: 0,
    sdp: pc.localDescription!.sdp,
    width: 640,
    height: 480,
    framerate: 15,
    video_min_kpbs: 0,
    video_max_kpbs: 800,
    audio_kpbs: 48,
  });
  // The offer was munged before setLocalDescription: H264 only, 800 kbps cap, Opus params.
  const sdp = String(desc!.body.sdp);
  expect(sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 102 103 106 107\r\nc=IN IP4 0.0.0.0\r\nb=AS:800\r\n');
  expect(sdp).toContain('a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=48000;stereo=0');
  // The answer push was acknowledged with its seq.
  expect(ack).toEqual({
    header: { version: '1.0.1', cmd: 'MediaDescAck', appid: '1', seq: 1, user_id: 'alice', session_id: sid },
    body: { result: 0 },
  });
  // Candidates gathered before the answer went out together once it was set; '' ends them.
  expect(cand!.header).toMatchObject({ session_id: sid });
  expect(cand!.body).toEqual({ infos: [HOST_CANDIDATE, { candidate: '' }] });

  // The peer connection: one sendonly transceiver per captured track, answer applied.
  expect(pc.transceivers.map((t) => [t.kind, t.direction])).toEqual([
    ['audio', 'sendonly'],
    ['video', 'sendonly'],
  ]);
  expect(pc.calls.slice(0, 5)).toEqual([
    'addTransceiver:audio',
    'addTransceiver:video',
    'createOffer',
    'setLocalDescription:offer',
    'setRemoteDescription:answer',
  ]);
  expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: serverSdp('answer', true) });
  // A candidate gathered after the answer goes alone, at once.
  pc.emitCandidate({ candidate: 'candidate:2 1 udp 1 10.1.1.1 9 typ srflx', sdpMid: '1', sdpMLineIndex: 1 });
  await h.platform.advance(0);
  expect(h.ms.sent('CandidateInfoReq').at(-1)!.body).toEqual({
    infos: [{ candidate: 'candidate:2 1 udp 1 10.1.1.1 9 typ srflx', sdpMid: '1', sdpMLineIndex: 1 }],
  });

  // Not started before ICE is up, nor before the room has the stream.
  await h.platform.advance(1000);
  expect(states(h)).toEqual([]);
  expect(h.streamCmds()).toEqual([]);
  pc.setIceState('connected');
  await h.platform.advance(0);
  expect(h.streamCmds()).toEqual([[2001, 's1']]);
  expect(JSON.parse(String(h.server.requests('stream')[0]!.body.stream_msg))).toEqual({
    stream_id: 's1',
    extra_info: 'hello',
  });
  await h.platform.advance(1000);
  expect(states(h)).toEqual([]);
  // (The room socket is the first one; FakeRoomServer's default, the last one, is the media socket.)
  h.server.reply(h.server.requests('stream')[0]!, { err_code: 0, stream_seq: 1 }, h.platform.sockets[0]);
  await flush();
  expect(states(h)).toEqual([[0, 's1', 0]]);
});

test('ICE connected but DTLS not yet (connectionState connecting) is not up', async () => {
  const h = await mediaHarness();
  const { pc } = await publishing(h, 's1', { connect: false });
  pc.setIceState('connected', 'connecting');
  await h.platform.advance(0);
  expect(h.streamCmds()).toEqual([]);
  pc.setConnectionState('connected');
  await h.platform.advance(0);
  expect(states(h)).toEqual([[0, 's1', 0]]);
});

test('startPublishingStream: false without login / preview / a string id, or when the id is already publishing', async () => {
  const h = await mediaHarness();
  const video = await withPreview(h);
  expect(h.zg.startPublishingStream('', video.el)).toBe(false);
  expect(h.zg.startPublishingStream(1 as unknown as string, video.el)).toBe(false);
  expect(h.zg.startPublishingStream('s1', { srcObject: null } as unknown as HTMLMediaElement)).toBe(false);
  expect(h.zg.startPublishingStream('s1', video.el)).toBe(true);
  expect(h.zg.startPublishingStream('s1', video.el)).toBe(false);
  h.zg.logout();
  expect(h.zg.startPublishingStream('s9', video.el)).toBe(false);
});

test('stopPublishingStream: closes the session and the peer connection, ends the stream on the room', async () => {
  const h = await mediaHarness();
  const { pc } = await publishing(h);
  const sid = h.ms.session.id;
  expect(h.zg.stopPublishingStream('s1')).toBe(true);
  await h.platform.advance(0);
  expect(pc.closed).toBe(true);
  expect(h.ms.sent('CloseSessionReq').map((f) => [f.header.session_id, f.body])).toEqual([
    [sid, { reason: 0 }],
  ]);
  expect(h.streamCmds()).toEqual([
    [2001, 's1'],
    [2002, 's1'],
  ]);
  expect(h.zg.stopPublishingStream('s1')).toBe(false);
  // The idle media socket closes after 3 s; nothing else is reported.
  await h.platform.advance(3000);
  expect(h.ms.socket.closedWith?.by).toBe('client');
  expect(states(h)).toEqual([[0, 's1', 0]]);
});

// ------------------------------------------------------------------------------------------- errors

interface ErrorCase {
  name: string;
  code: string;
  msg: string;
  /** Before publishing. */
  setup?(h: MediaHarness): void;
  /** After the negotiation reached its wait (fake time not moved). */
  trigger?(h: MediaHarness): void;
  /** A timeout: fires exactly this many ms after the start, not 1 ms before. */
  at?: number;
}

const boom = (what: string) => new Error(`${what} failed`);

const CASES: ErrorCase[] = [
  {
    name: 'dispatch reply err_code != 0',
    code: 'ZegoPublish.Error.Dispatch',
    msg: 'dispatch request error',
    setup: (h) => (h.server.handlers.webrtc_url = () => ({ err_code: 1009 })),
  },
  {
    name: 'dispatch reply without URLs',
    code: 'ZegoPublish.Error.Dispatch',
    msg: 'dispatch request error',
    setup: (h) =>
      (h.server.handlers.webrtc_url = () => ({ err_code: 0, urls: [], need_action: 0, action_delay: 0 })),
  },
  {
    // The room send queue times dispatch: its 2 s sweep fails requests older than 5 s, so 6 s here.
    name: 'no dispatch reply (room send-queue sweep)',
    code: 'ZegoPublish.Timeout.Dispatch',
    msg: 'dispatch request timeout',
    setup: (h) => h.server.muted.add('webrtc_url'),
    at: 6000,
  },
  {
    name: 'LoginRsp result 1',
    code: 'ZegoPublish.Error.Token',
    msg: 'login token error: token error',
    setup: (h) => (h.ms.results.LoginReq = 1),
  },
  {
    name: 'no CreateSessionRsp',
    code: 'ZegoPublish.Timeout.Session',
    msg: 'send session request timeout',
    setup: (h) => h.ms.withhold.add('CreateSessionRsp'),
    at: 5000,
  },
  {
    name: 'CreateSessionRsp result 5',
    code: 'ZegoPublish.Error.Session',
    msg: 'create session error: media server unavailable (result 5)',
    setup: (h) => (h.ms.results.CreateSessionReq = 5),
  },
  {
    name: 'createOffer rejects',
    code: 'ZegoPublish.Error.CreateOffer',
    msg: 'create offer error: createOffer failed',
    setup: (h) => (h.media.fail.createOffer = boom('createOffer')),
  },
  {
    name: 'setLocalDescription rejects',
    code: 'ZegoPublish.Error.LocalDesc',
    msg: 'setLocalDescription error: setLocalDescription failed',
    setup: (h) => (h.media.fail.setLocalDescription = boom('setLocalDescription')),
  },
  {
    // The server pushes its answer but never replies to MediaDescReq.
    name: 'no MediaDescRsp',
    code: 'ZegoPublish.Timeout.Desc',
    msg: 'send mediaDesc timeout',
    setup: (h) => h.ms.withhold.add('MediaDescRsp'),
    at: 5000,
  },
  {
    name: 'MediaDescRsp result 2',
    code: 'ZegoPublish.Error.ServerAnswer',
    msg: 'server mediaDesc type error: bad request',
    setup: (h) => (h.ms.results.MediaDescReq = 2),
  },
  {
    name: 'no MediaDescPush (answer)',
    code: 'ZegoPublish.Timeout.ServerAnswer',
    msg: 'waiting server mediaDesc timeout',
    setup: (h) => h.ms.withhold.add('MediaDescPush'),
    at: 5000,
  },
  {
    name: 'MediaDescPush is not an answer',
    code: 'ZegoPublish.Error.ServerAnswer',
    msg: 'server mediaDesc type error',
    setup: (h) => (h.ms.answerType = 0),
  },
  {
    name: 'setRemoteDescription(answer) rejects',
    code: 'ZegoPublish.Error.RemoteDesc',
    msg: 'other side offer error: setRemoteDescription failed',
    setup: (h) => (h.media.fail.setRemoteDescription = boom('setRemoteDescription')),
  },
  {
    name: 'no CandidateInfoRsp',
    code: 'ZegoPublish.Timeout.Candidate',
    msg: 'send candidate timeout',
    setup: (h) => h.ms.withhold.add('CandidateInfoRsp'),
    at: 5000,
  },
  {
    name: 'answer without candidates and no CandidateInfoPush',
    code: 'ZegoPublish.Timeout.ServerCandidate',
    msg: 'waiting candidate timeout',
    setup: (h) => (h.ms.answerSdp = serverSdp('answer', false)),
    at: 5000,
  },
  {
    name: 'addIceCandidate rejects a pushed candidate',
    code: 'ZegoPublish.Error.ServerCandidate',
    msg: 'recv candidate error',
    setup: (h) => {
      h.ms.answerSdp = serverSdp('answer', false);
      h.ms.pushCandidates = [{ candidate: SERVER_CANDIDATE, sdpMid: '0', sdpMLineIndex: 0 }];
      h.media.fail.addIceCandidate = boom('addIceCandidate');
    },
  },
  {
    name: "ICE 'failed' before the start",
    code: 'ZegoPublish.Error.ConnectionFailed',
    msg: 'ice Connection state failed',
    trigger: (h) => h.media.pc.setIceState('failed'),
  },
  {
    name: "ICE 'closed' underneath before the start",
    code: 'ZegoPublish.Error.ConnectionClosed',
    msg: 'ice connection state closed',
    trigger: (h) => h.media.pc.setIceState('closed'),
  },
  {
    name: 'CloseSessionPush',
    code: 'ZegoPublish.Error.SessionClosed',
    msg: 'server session closed reason:1',
    trigger: (h) => h.ms.closeSession(h.ms.session, 1),
  },
  {
    name: 'CloseSessionPush reason 2 (media-server restart) before the start is final too',
    code: 'ZegoPublish.Error.SessionClosed',
    msg: 'server session closed reason:2',
    trigger: (h) => h.ms.closeSession(h.ms.session, 2),
  },
  {
    name: 'media socket dropped before the start',
    code: 'ZegoPublish.Error.SocketError',
    msg: 'network error: media socket closed',
    trigger: (h) => h.ms.socket.drop(),
  },
];

describe.each(CASES)('error: $name', (c) => {
  test(`-> state 1 {${c.code}}`, async () => {
    const h = await mediaHarness();
    c.setup?.(h);
    const video = await withPreview(h);
    expect(h.zg.startPublishingStream('s1', video.el)).toBe(true);
    await h.platform.advance(0);
    c.trigger?.(h);
    if (c.at !== undefined) {
      await h.platform.advance(c.at - 1);
      expect(states(h)).toEqual([]);
      await h.platform.advance(1);
    } else await h.platform.advance(0);
    expect(states(h)).toHaveLength(1);
    const [type, id, err] = states(h)[0]!;
    expect([type, id]).toEqual([1, 's1']);
    expect(err).toStrictEqual({ code: c.code, msg: c.msg });
    // Final: no retry, the room never had the stream, the peer connection (if any) is closed.
    await h.platform.advance(60_000);
    expect(states(h)).toHaveLength(1);
    expect(h.streamCmds()).toEqual([]);
    for (const pc of h.media.pcs) expect(pc.closed).toBe(true);
    // The stream id is free again.
    expect(h.zg.startPublishingStream('s1', video.el)).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------ retries

test("after the start, ICE 'failed' -> state 2, then a new negotiation -> state 0 again", async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  const { pc } = await publishing(h);
  const first = h.ms.session.id;
  pc.setIceState('failed');
  await h.platform.advance(0);
  expect(states(h)).toEqual([
    [0, 's1', 0],
    [2, 's1', { code: 'ZegoPublish.Error.ConnectionFailed', msg: 'ice Connection state failed' }],
  ]);
  expect(pc.closed).toBe(true);
  expect(h.ms.sent('CloseSessionReq').map((f) => f.header.session_id)).toEqual([first]);
  await h.platform.advance(99);
  expect(h.media.pcs).toHaveLength(1);
  await h.platform.advance(1);
  // A fresh dispatch, session and offer on the same media socket.
  expect(h.server.requests('webrtc_url')).toHaveLength(2);
  expect(h.ms.sockets).toHaveLength(1);
  expect(h.ms.cmds().slice(-5)).toEqual([
    'CloseSessionReq',
    'CreateSessionReq',
    'MediaDescReq',
    'MediaDescAck',
    'CandidateInfoReq',
  ]);
  const pc2 = h.media.pc;
  expect(pc2).not.toBe(pc);
  expect(pc2.calls).toContain('createOffer');
  expect(states(h)).toHaveLength(2);
  pc2.setIceState('connected');
  await h.platform.advance(0);
  expect(states(h)).toEqual([
    [0, 's1', 0],
    [2, 's1', { code: 'ZegoPublish.Error.ConnectionFailed', msg: 'ice Connection state failed' }],
    [0, 's1', 0],
  ]);
  // (The retry announces 2001 again; whether it should is left open: see the report.)
  expect(h.streamCmds()[0]).toEqual([2001, 's1']);
  expect(h.streamCmds().filter(([c]) => c === 2002)).toEqual([]);
});

test('after the start, SessionResetPush -> state 2 (SessionClosed), then state 0 again', async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  await publishing(h);
  h.ms.reset(h.ms.socket);
  await h.platform.advance(0);
  expect(h.ms.sent('SessionResetAck')).toHaveLength(1);
  expect(states(h).slice(1)).toEqual([
    [2, 's1', { code: 'ZegoPublish.Error.SessionClosed', msg: 'server session closed reset' }],
  ]);
  await h.platform.advance(100);
  expect(h.ms.sessions).toHaveLength(2);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  expect(states(h).map((s) => s[0])).toEqual([0, 2, 0]);
});

test('after the start, the media socket dropped -> state 2 (SocketError), a new socket, state 0 again', async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  await publishing(h);
  h.ms.socket.drop();
  await h.platform.advance(0);
  expect(states(h).slice(1)).toEqual([
    [2, 's1', { code: 'ZegoPublish.Error.SocketError', msg: 'network error: media socket closed' }],
  ]);
  await h.platform.advance(100);
  expect(h.ms.sockets).toHaveLength(2);
  expect(h.ms.socket.sentCmd('LoginReq')).toHaveLength(1);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  expect(states(h).map((s) => s[0])).toEqual([0, 2, 0]);
});

test('retry budget spent (streamRetryTime 1 s, retries failing) -> state 1 RetryTimeout, no further attempt', async () => {
  const h = await mediaHarness({ config: { streamRetryTime: 1, testing: { backoffMs: 300 } } });
  const { pc } = await publishing(h);
  h.server.handlers.webrtc_url = () => ({ err_code: 1009 });
  pc.setIceState('failed');
  await h.platform.advance(0);
  expect(states(h).map((s) => s[0])).toEqual([0, 2]);
  // Attempts at 300, 600 and 900 ms fail at dispatch; the next wait (to 1200 ms) passes the 1 s budget.
  await h.platform.advance(899);
  expect(h.server.requests('webrtc_url')).toHaveLength(3);
  expect(states(h)).toHaveLength(2);
  await h.platform.advance(1);
  expect(h.server.requests('webrtc_url')).toHaveLength(4);
  expect(states(h)[2]).toEqual([1, 's1', { code: 'ZegoPublish.Error.RetryTimeout', msg: 'retry timeout' }]);
  await h.platform.advance(60_000);
  expect(h.server.requests('webrtc_url')).toHaveLength(4);
  expect(states(h)).toHaveLength(3);
});

test('media heartbeat: ClientHBReq{session_ids} every hb_interval; five unanswered beats drop the socket -> state 2 (SocketError)', async () => {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  h.ms.hbInterval = 4000;
  await publishing(h);
  const sid = h.ms.session.id;
  await h.platform.advance(3999);
  expect(h.ms.sent('ClientHBReq')).toHaveLength(0);
  await h.platform.advance(1);
  expect(h.ms.sent('ClientHBReq').map((f) => f.body)).toEqual([{ session_ids: [sid] }]);
  h.ms.withhold.add('ClientHBRsp');
  // Beats at 8, 12, 16, 20 and 24 s go unanswered; the one due at 28 s drops the socket instead.
  await h.platform.advance(23_999);
  expect(h.ms.sent('ClientHBReq')).toHaveLength(6);
  expect(states(h)).toEqual([[0, 's1', 0]]);
  await h.platform.advance(1);
  expect(h.ms.sent('ClientHBReq')).toHaveLength(6);
  expect(h.ms.sockets[0]!.closedWith?.by).toBe('client');
  expect(states(h).slice(1)).toEqual([
    [2, 's1', { code: 'ZegoPublish.Error.SocketError', msg: 'network error: media socket closed' }],
  ]);
  h.ms.withhold.delete('ClientHBRsp');
  await h.platform.advance(100);
  expect(h.ms.sockets).toHaveLength(2);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  expect(states(h).map((s) => s[0])).toEqual([0, 2, 0]);
});
