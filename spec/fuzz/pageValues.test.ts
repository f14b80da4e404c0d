/**
 * Class 7 of issue 15: what a page can send through the documented API, with either SDK, is never a
 * protocol error. Each frame below is what the shim or the original 1.12.5 puts on the wire for an odd
 * value a page passed (over-long messages, empty room names, numbers where strings belong: the original
 * checks none of these), sent twelve times on one socket (the tenth protocol error would close it 4004).
 * Each gets its error reply (1000000002 invalid body, 1000000005 too large; media result 2), the socket
 * stays, and the server counts no protocol error, on both planes, before and after login.
 */
import { ServerCode } from '../../src/protocol/errors';
import { Target } from './lib/harness';
import { fuzzConfig } from './lib/server';
import { Sock, isRoomPush, mediaLogin, roomLogin, type Header } from './lib/sockets';

jest.setTimeout(60_000);
const REPEAT = 12;
// A page sends these over minutes; here they come at once: the rate limit is not what is tested.
const t = new Target(fuzzConfig({ limits: { messagesPerSecond: 1000, burst: 1000 } }));
beforeAll(() => t.start());
afterAll(() => t.stop());

type Counters = { protocolErrors: number; closes: Record<string, number> };
async function counters(): Promise<{ room: Counters; media: Counters }> {
  const h = (await t.srv.health()) as unknown as {
    roomSockets: Counters;
    media: { mediaSockets: Counters };
  };
  return { room: h.roomSockets, media: h.media.mediaSockets };
}

const long = (n: number) => 'x'.repeat(n);

/** What each page call puts on the room socket (body only; the header is the session's). */
const ROOM_CALLS: [string, string, unknown, number][] = [
  [
    'sendRoomMsg, 9,000 characters',
    'im_chat',
    { msg_category: 1, msg_type: 1, msg_content: long(9000) },
    ServerCode.TooLarge,
  ],
  [
    'sendRoomMsg, 70,000 characters (over the frame limit)',
    'im_chat',
    { msg_category: 1, msg_type: 1, msg_content: long(70_000) },
    ServerCode.TooLarge,
  ],
  [
    'sendReliableMessage(123, …) (original)',
    'trans',
    { trans_type: 123, trans_data: 'd', trans_local_seq: 0, trans_channel: 'clt' },
    ServerCode.InvalidBody,
  ],
  [
    'sendReliableMessage, a 2,000-byte type',
    'trans',
    { trans_type: long(2000), trans_data: 'd' },
    ServerCode.TooLarge,
  ],
  [
    'sendReliableMessage(type, {}) (original)',
    'trans',
    { trans_type: 't', trans_data: {} },
    ServerCode.InvalidBody,
  ],
  [
    'sendRelayMessage(null, …) (original)',
    'relay',
    { relay_type: null, relay_data: 'd' },
    ServerCode.InvalidBody,
  ],
  [
    'sendBigRoomMessage("1", …) (original)',
    'bigim_chat',
    { msgs: [{ msg_category: '1', msg_type: 1, msg_content: 'x', bigmsg_client_id: '1' }] },
    ServerCode.InvalidBody,
  ],
  [
    'sendBigRoomMessage, 9,000 characters',
    'bigim_chat',
    { msgs: [{ msg_category: 1, msg_type: 1, msg_content: long(9000), bigmsg_client_id: '1' }] },
    ServerCode.TooLarge,
  ],
  [
    'sendCustomCommand("bob", …) (original: any truthy destination)',
    'custommsg',
    { dest_id_name: 'bob', custom_msg: '{"custom_content":"x"}' },
    ServerCode.InvalidBody,
  ],
  [
    'sendCustomCommand to 1,001 members',
    'custommsg',
    { dest_id_name: Array<string>(1001).fill('bob'), custom_msg: '{"custom_content":"x"}' },
    ServerCode.TooLarge,
  ],
  [
    'requestJoinLive, a 300-byte idName',
    'signal',
    { sub_cmd: 1001, signal_msg: '{}', dest_id_name: [long(300)] },
    ServerCode.TooLarge,
  ],
  [
    'startPublishingStream, 5,000 bytes of extra info',
    'stream',
    { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: 's', extra_info: long(5000) }) },
    ServerCode.TooLarge,
  ],
  [
    'updateStreamExtraInfo, 2,000 bytes (over room.maxExtraInfoBytes)',
    'stream',
    { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: 'ok-stream', extra_info: long(2000) }) },
    ServerCode.TooLarge,
  ],
  [
    'startPublishingStream(a 300-byte id) (dispatch)',
    'webrtc_url',
    { stream_id: long(300), ptype: 'push' },
    ServerCode.TooLarge,
  ],
];

const loginBody = (o: Record<string, unknown>) => ({
  id_name: 'odd-login',
  nick_name: 'odd',
  role: 1,
  token: 'x',
  version: '1.12.5',
  room_name: 'r',
  user_state_flag: 0,
  room_create_flag: 1,
  client_type: 3,
  third_token: '',
  ...o,
});

const LOGIN_CALLS: [string, unknown, number][] = [
  ['login("", …): an empty room name', loginBody({ room_name: '' }), ServerCode.InvalidBody],
  ['config({nickName}) of 300 bytes', loginBody({ nick_name: long(300) }), ServerCode.TooLarge],
  ['login with a 5,000-character token', loginBody({ token: long(5000) }), ServerCode.TooLarge],
  [
    'loginWithAuthor with a 5,000-character third token',
    loginBody({ third_token: long(5000) }),
    ServerCode.TooLarge,
  ],
];

test('room plane, logged in: every odd page call gets its error twelve times; no strike, the socket stays', async () => {
  const before = await counters();
  const s = await roomLogin(t.srv, 'odd-page', 'odd-room');
  try {
    for (const [what, cmd, body, code] of ROOM_CALLS) {
      for (let i = 0; i < REPEAT; i++) {
        s.sock.drain();
        const h: Header = s.header(cmd);
        s.sock.sendJson({ header: h, body });
        const o = await s.sock.next(3000);
        if (o.kind !== 'frame')
          throw new Error(`${what} #${i + 1}: ${o.kind} ${JSON.stringify(o).slice(0, 200)}`);
        const f = o.frame.json as { header: { seq: number; cmd: string }; body: { err_code: number } };
        expect({ what, seq: f.header.seq, cmd: f.header.cmd, code: f.body.err_code }).toEqual({
          what,
          seq: h.seq,
          cmd,
          code,
        });
      }
    }
    expect(await s.sock.ping()).toBe('pong');
  } finally {
    s.sock.terminate();
  }
  const after = await counters();
  expect(after.room.protocolErrors - before.room.protocolErrors).toBe(0);
  expect(after.room.closes).toEqual(before.room.closes);
  expect(await t.problems()).toEqual([]);
});

test("room plane, before login: the original's logout, odd logins (empty room, long names and tokens) twelve times on one socket", async () => {
  const before = await counters();
  const sock = await Sock.open(t.srv.ws('/ws'), isRoomPush);
  try {
    let seq = 0;
    // The original SDK's login first resets its previous session: a logout on the new socket.
    for (let i = 0; i < REPEAT; i++) {
      sock.sendJson({
        header: {
          Protocol: 'req',
          cmd: 'logout',
          appid: 1739272706,
          seq: ++seq,
          session_id: '',
          room_id: '',
        },
        body: { reserve: 0 },
      });
      const o = await sock.next(3000);
      if (o.kind !== 'frame') throw new Error(`logout before login #${i + 1}: ${o.kind}`);
      const f = o.frame.json as { header: { seq: number }; body: { err_code: number } };
      expect({ seq: f.header.seq, code: f.body.err_code }).toEqual({ seq, code: ServerCode.BadLoginState });
    }
    for (const [what, body, code] of LOGIN_CALLS)
      for (let i = 0; i < REPEAT; i++) {
        sock.sendJson({
          header: {
            Protocol: 'req',
            cmd: 'login',
            appid: 1739272706,
            seq: ++seq,
            session_id: '',
            room_id: 'r',
          },
          body,
        });
        const o = await sock.next(3000);
        if (o.kind !== 'frame') throw new Error(`${what} #${i + 1}: ${o.kind}`);
        const f = o.frame.json as { header: { seq: number }; body: { err_code: number } };
        expect({ what, seq: f.header.seq, code: f.body.err_code }).toEqual({ what, seq, code });
      }
    expect(await sock.ping()).toBe('pong');
  } finally {
    sock.terminate();
  }
  const after = await counters();
  expect(after.room.protocolErrors - before.room.protocolErrors).toBe(0);
  expect(await t.problems()).toEqual([]);
});

test('media plane: odd stream ids and an over-long SDP, logged in; an over-long room id at login', async () => {
  const before = await counters();
  await roomLogin(t.srv, 'odd-media', 'odd-room').then((r) => closers.push(r.sock));
  const m = await mediaLogin(t.srv, 'odd-media', 'odd-room');
  closers.push(m.sock);
  const calls: [string, string, unknown][] = [
    ['startPublishingStream(a 300-byte id)', 'CreateSessionReq', { type: 0, stream_id: long(300) }],
    ['startPlayingStream("") (original)', 'CreateSessionReq', { type: 1, stream_id: '', negotiate_mode: 1 }],
    ['a 40,000-byte SDP', 'MediaDescReq', { type: 0, sdp: `v=0${long(40_000)}` }],
  ];
  for (const [what, cmd, body] of calls)
    for (let i = 0; i < REPEAT; i++) {
      m.sock.drain();
      const h = m.header(cmd);
      m.sock.sendJson({ header: h, body });
      const o = await m.sock.next(3000);
      if (o.kind !== 'frame') throw new Error(`${what} #${i + 1}: ${o.kind}`);
      const f = o.frame.json as { header: { seq: number }; body: { result: number } };
      expect({ what, seq: f.header.seq, result: f.body.result }).toEqual({ what, seq: h.seq, result: 2 });
    }
  expect(await m.sock.ping()).toBe('pong');
  // Before login: a LoginReq naming a 300-byte room, twelve times on one socket.
  const pre = await Sock.open(t.srv.ws('/media'), (r) =>
    String((r.json as { header?: { cmd?: string } })?.header?.cmd).endsWith('Push'),
  );
  closers.push(pre);
  for (let i = 1; i <= REPEAT; i++) {
    pre.sendJson({
      header: {
        version: '1.0.1',
        cmd: 'LoginReq',
        appid: 1739272706,
        seq: i,
        user_id: 'odd-media',
        session_id: 0,
      },
      body: { token: 'x', roomid: long(300) },
    });
    const o = await pre.next(3000);
    expect(o.kind === 'frame' ? (o.frame.json as { body: { result: number } }).body.result : o).toBe(2);
  }
  expect(await pre.ping()).toBe('pong');
  const after = await counters();
  expect(after.media.protocolErrors - before.media.protocolErrors).toBe(0);
  expect(after.media.closes).toEqual(before.media.closes);
  expect(await t.problems()).toEqual([]);
});

const closers: Sock[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c.terminate();
});
