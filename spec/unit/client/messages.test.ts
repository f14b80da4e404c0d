/**
 * Message APIs of ZegoClient on fakes: sendRoomMsg (argument check, 500 ms limit), sendCustomCommand
 * (legacy booleans, wire frame), sendRelayMessage pacing (dati_time_window) and sendBigRoomMessage
 * batching (bigim_time_window).
 */
import { ZegoClient } from '../../../src/client/compat/ZegoClient';
import { FakePlatform } from '../../fakes/FakePlatform';
import { loggedIn, newHarness } from '../../fakes/clientHarness';

const START = 1_000_000; // FakePlatform's default clock at login

describe('sendRoomMsg', () => {
  test.each([
    [3, 1, 'x'],
    [0, 1, 'x'],
    [1, 0, 'x'],
    [2, 4, 'x'],
    [1, 1, 123],
    [1, 1, undefined],
  ])(
    'category %p, type %p, content %p -> error({Param, "input error."}) with that single argument',
    async (c, t, x) => {
      const h = await loggedIn();
      const ok = jest.fn();
      const err = jest.fn();
      h.zg.sendRoomMsg(c, t, x as string, ok, err);
      expect(err.mock.calls).toEqual([[{ code: 'ZegoClient.Error.Param', msg: 'input error.' }]]);
      await h.platform.advance(10_000);
      expect(ok).not.toHaveBeenCalled();
      expect(h.server.requests('im_chat')).toEqual([]);
    },
  );

  test('one message per 500 ms: a second call within 500 ms gets the (sic) requencyLimited error at once', async () => {
    const h = await loggedIn();
    const ok1 = jest.fn();
    h.zg.sendRoomMsg(1, 1, 'first', ok1);
    await h.platform.advance(499);
    const [f1] = h.server.requests('im_chat');
    expect(f1!.body).toEqual({ msg_category: 1, msg_type: 1, msg_content: 'first' });
    expect(ok1.mock.calls).toEqual([[f1!.header.seq, 1, 1, 1, 'first']]); // (seq, msg_id, category, type, content)
    const ok2 = jest.fn();
    const err2 = jest.fn();
    h.zg.sendRoomMsg(2, 3, 'second', ok2, err2);
    expect(err2.mock.calls).toEqual([
      [{ code: 'ZegoClient.Error.requencyLimited', msg: 'Frequency Limited.' }, 0, 2, 3, 'second'],
    ]);
    expect(h.server.requests('im_chat')).toHaveLength(1);
    await h.platform.advance(1); // 500 ms after the first: allowed again (the refused call did not count)
    const ok3 = jest.fn();
    const err3 = jest.fn();
    h.zg.sendRoomMsg(2, 2, 'third', ok3, err3);
    await h.platform.advance(0);
    const [, f3] = h.server.requests('im_chat');
    expect(f3!.body).toEqual({ msg_category: 2, msg_type: 2, msg_content: 'third' });
    expect(ok3.mock.calls).toEqual([[f3!.header.seq, 2, 2, 2, 'third']]);
    expect(err3).not.toHaveBeenCalled();
    expect(ok2).not.toHaveBeenCalled();
  });
});

describe('sendCustomCommand', () => {
  test('false without config, before login and while logging in; no frame, no callback', async () => {
    const h = newHarness();
    const err = jest.fn();
    expect(h.zg.sendCustomCommand(['bob'], 'x', undefined, err)).toBe(false); // configured, not logged in
    h.zg.login('room1', 1, 'token');
    h.server.muted.add('login');
    await h.platform.advance(100); // socket open, login sent, no reply: logging in
    expect(h.server.requests('login')).toHaveLength(1);
    expect(h.zg.sendCustomCommand(['bob'], 'x', undefined, err)).toBe(false);
    expect(h.server.requests('custommsg')).toEqual([]);
    expect(err).not.toHaveBeenCalled();
    expect(new ZegoClient(new FakePlatform()).sendCustomCommand(['bob'], 'x')).toBe(false); // no config
  });

  test('false for an empty or non-array destination list and for content over 1024 UTF-8 bytes', async () => {
    const h = await loggedIn();
    expect(h.zg.sendCustomCommand([], 'x')).toBe(false);
    expect(h.zg.sendCustomCommand('bob' as unknown as string[], 'x')).toBe(false);
    expect(h.zg.sendCustomCommand(['bob'], 'a'.repeat(1025))).toBe(false);
    expect(h.zg.sendCustomCommand(['bob'], 'é'.repeat(513))).toBe(false); // 513 chars, 1026 bytes
    expect(h.zg.sendCustomCommand(['bob'], '中'.repeat(342))).toBe(false); // 1026 bytes
    expect(h.server.requests('custommsg')).toEqual([]);
    expect(h.zg.sendCustomCommand(['bob'], 'é'.repeat(512))).toBe(true); // exactly 1024 bytes
    expect(h.zg.sendCustomCommand(['bob'], 'a'.repeat(1024))).toBe(true);
    expect(h.server.requests('custommsg')).toHaveLength(2);
  });

  test('true: the frame carries dest_id_name and the custom_msg JSON string; success(seq, custom_msg)', async () => {
    const h = await loggedIn();
    const ok = jest.fn();
    expect(h.zg.sendCustomCommand(['bob', 'carol'], 'hello', ok)).toBe(true);
    expect(h.zg.sendCustomCommand(['bob'], { n: 1, s: 'x' })).toBe(true);
    const [f1, f2] = h.server.requests('custommsg');
    expect(f1!.header).toEqual({
      Protocol: 'req',
      cmd: 'custommsg',
      appid: 1,
      seq: 3,
      user_id: 'uid-alice',
      session_id: 'sess-1',
      room_id: 'room1',
    });
    expect(f1!.body.dest_id_name).toEqual(['bob', 'carol']);
    expect(JSON.parse(f1!.body.custom_msg as string)).toEqual({
      from_userid: 'alice',
      from_username: 'Alice',
      request_id: 'alice-2',
      custom_content: 'hello',
      room_id: 'room1',
    });
    // Non-string content is JSON-encoded; request ids count on.
    expect(JSON.parse(f2!.body.custom_msg as string)).toMatchObject({
      custom_content: '{"n":1,"s":"x"}',
      request_id: 'alice-3',
    });
    await h.platform.advance(0);
    expect(ok.mock.calls).toEqual([[3, f1!.body.custom_msg]]);
  });
});

describe('sendRelayMessage', () => {
  /** The pacing delay: floor(random * (span + 1)), span = 2w - ((now + serverOffset) % w). */
  const relayDelay = (now: number, offset: number, w: number, r: number) =>
    Math.floor(r * (2 * w - ((now + offset) % w) + 1));

  test('with dati_time_window the message waits floor(random*(span+1)) ms, span = 2w - (server time % w)', async () => {
    const h = await loggedIn({ login: { dati_time_window: 1000 }, clockOffsetMs: 250 });
    h.platform.setRandom(0.5);
    const ok = jest.fn();
    h.zg.sendRelayMessage('1', 'A', ok);
    const delay = relayDelay(START, 250, 1000, 0.5);
    expect(delay).toBe(875); // server time % 1000 = 250 -> span 1750
    await h.platform.advance(delay - 1);
    expect(h.server.requests('relay')).toEqual([]);
    await h.platform.advance(1);
    const [f] = h.server.requests('relay');
    expect(f!.body).toEqual({ relay_type: '1', relay_data: 'A' });
    expect(ok.mock.calls).toEqual([[f!.header.seq, 'echo:A']]);
  });

  test('the delay stays within 2 x window (random close to 1, server time at a window start)', async () => {
    const h = await loggedIn({ login: { dati_time_window: 1000 }, clockOffsetMs: 0 }); // time % 1000 = 0
    h.platform.setRandom(0.999999);
    h.zg.sendRelayMessage('1', 'A');
    expect(relayDelay(START, 0, 1000, 0.999999)).toBe(2000);
    await h.platform.advance(1999);
    expect(h.server.requests('relay')).toEqual([]);
    await h.platform.advance(1);
    expect(h.server.requests('relay')).toHaveLength(1);
  });

  test('queued messages go out one after the other, each paced from the previous send', async () => {
    const h = await loggedIn({ login: { dati_time_window: 1000 }, clockOffsetMs: 250 });
    h.platform.setRandom(0.5);
    const ok = jest.fn();
    h.zg.sendRelayMessage('1', 'A', ok);
    h.zg.sendRelayMessage('1', 'B', ok);
    const d1 = relayDelay(START, 250, 1000, 0.5);
    const d2 = relayDelay(START + d1, 250, 1000, 0.5);
    expect([d1, d2]).toEqual([875, 938]);
    await h.platform.advance(d1);
    expect(h.server.requests('relay').map((f) => f.body.relay_data)).toEqual(['A']);
    await h.platform.advance(d2 - 1);
    expect(h.server.requests('relay')).toHaveLength(1);
    await h.platform.advance(1);
    expect(h.server.requests('relay').map((f) => f.body.relay_data)).toEqual(['A', 'B']);
    expect(ok.mock.calls.map((c) => c[1])).toEqual(['echo:A', 'echo:B']);
  });

  test('with dati_time_window 0 the message is sent at once', async () => {
    const h = await loggedIn();
    h.zg.sendRelayMessage('7', 'now');
    expect(h.server.requests('relay').map((f) => f.body)).toEqual([{ relay_type: '7', relay_data: 'now' }]);
  });
});

describe('sendBigRoomMessage', () => {
  test('bigim_time_window 0: one request per message, sent at once; success(request seq, bigmsg_id)', async () => {
    const h = await loggedIn();
    const ok1 = jest.fn();
    const ok2 = jest.fn();
    h.zg.sendBigRoomMessage(1, 1, 'm1', ok1);
    h.zg.sendBigRoomMessage(2, 3, 'm2', ok2);
    const frames = h.server.requests('bigim_chat');
    expect(frames.map((f) => f.body.msgs)).toEqual([
      [{ msg_category: 1, msg_type: 1, msg_content: 'm1', bigmsg_client_id: '1' }],
      [{ msg_category: 2, msg_type: 3, msg_content: 'm2', bigmsg_client_id: '2' }],
    ]);
    await h.platform.advance(0);
    expect(ok1.mock.calls).toEqual([[frames[0]!.header.seq, 'bm-1']]);
    expect(ok2.mock.calls).toEqual([[frames[1]!.header.seq, 'bm-2']]);
    expect(frames[0]!.header.seq).toBe(3);
  });

  test('window 1000: the first message of a window goes at once, later ones are batched into one request', async () => {
    const h = await loggedIn({ login: { bigim_time_window: 1000 }, clockOffsetMs: 250 });
    h.platform.setRandom(0.5);
    const oks = [jest.fn(), jest.fn(), jest.fn(), jest.fn()];
    oks.forEach((ok, i) => h.zg.sendBigRoomMessage(1, 1, `m${i + 1}`, ok));
    expect(h.server.requests('bigim_chat').map((f) => f.body.msgs)).toEqual([
      [{ msg_category: 1, msg_type: 1, msg_content: 'm1', bigmsg_client_id: '1' }],
    ]);
    // Batch delay: to the end of this window (1000 - 250) plus floor(0.5 * 1001).
    await h.platform.advance(1249);
    expect(h.server.requests('bigim_chat')).toHaveLength(1);
    await h.platform.advance(1);
    const [first, batch] = h.server.requests('bigim_chat');
    expect((batch!.body.msgs as { msg_content: string }[]).map((m) => m.msg_content)).toEqual([
      'm2',
      'm3',
      'm4',
    ]);
    expect(oks.map((ok) => ok.mock.calls)).toEqual([
      [[first!.header.seq, 'bm-1']],
      [[batch!.header.seq, 'bm-2']],
      [[batch!.header.seq, 'bm-3']],
      [[batch!.header.seq, 'bm-4']],
    ]);
  });

  test('at most 20 per batch; the rest follow in the next window; a message in a later window goes at once', async () => {
    const h = await loggedIn({ login: { bigim_time_window: 1000 }, clockOffsetMs: 250 });
    h.platform.setRandom(0.5);
    for (let i = 1; i <= 26; i++) h.zg.sendBigRoomMessage(1, 1, `m${i}`);
    const sizes = () => h.server.requests('bigim_chat').map((f) => (f.body.msgs as unknown[]).length);
    expect(sizes()).toEqual([1]);
    await h.platform.advance(1250); // first batch (server time % 1000 = 250: 750 + 500)
    expect(sizes()).toEqual([1, 20]);
    await h.platform.advance(999); // next: server time % 1000 = 500: 500 + 500
    expect(sizes()).toEqual([1, 20]);
    await h.platform.advance(1);
    expect(sizes()).toEqual([1, 20, 5]);
    const last = h.server.requests('bigim_chat')[2]!.body.msgs as { bigmsg_client_id: string }[];
    expect(last.map((m) => m.bigmsg_client_id)).toEqual(['22', '23', '24', '25', '26']);
    h.zg.sendBigRoomMessage(1, 1, 'same window'); // server time % 1000 = 500, window just flushed
    expect(sizes()).toEqual([1, 20, 5]);
    await h.platform.advance(1500);
    expect(sizes()).toEqual([1, 20, 5, 1]);
    h.zg.sendBigRoomMessage(1, 1, 'next window'); // a window with nothing sent yet: at once
    expect(sizes()).toEqual([1, 20, 5, 1, 1]);
  });
});
