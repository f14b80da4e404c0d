/**
 * The legacy send queue as a page sees it through ZegoClient callbacks: timeout errors
 * `(err, seq, content)` exactly once, silent drops with no callback, success only when the reply comes
 * first, and every pending request failed when the socket drops.
 */
import { flush } from '../../fakes/FakePlatform';
import { loggedIn } from '../../fakes/clientHarness';

const TIMEOUT = { code: 'ZegoClient.Error.Timeout', msg: 'send customsg timeout.' };

test('custom command with no reply: error(err, seq, content) once, at the first sweep after 5 s', async () => {
  const h = await loggedIn(); // login seq 1, first heartbeat seq 2 (answered); sweeps every 2 s from now
  h.server.muted.add('custommsg');
  const ok = jest.fn();
  const err = jest.fn();
  expect(h.zg.sendCustomCommand(['bob'], 'hello', ok, err)).toBe(true);
  const [frame] = h.server.requests('custommsg');
  expect(frame!.header.seq).toBe(3);
  await h.platform.advance(5999); // sweeps at 2 s and 4 s: not 5 s old yet
  expect(err).not.toHaveBeenCalled();
  await h.platform.advance(1); // sweep at 6 s
  expect(err.mock.calls).toEqual([[TIMEOUT, 3, 'hello']]);
  await h.platform.advance(30_000);
  expect(err).toHaveBeenCalledTimes(1);
  expect(ok).not.toHaveBeenCalled();
});

test('a request the sweep first sees more than 10 s old is dropped with no callback at all', async () => {
  const h = await loggedIn();
  h.server.muted.add('custommsg');
  const ok = jest.fn();
  const err = jest.fn();
  h.zg.sendCustomCommand(['bob'], 'hello', ok, err);
  const [frame] = h.server.requests('custommsg');
  h.platform.skew(11_000);
  await h.platform.advance(0); // the overdue sweep runs once, 11 s after the send
  expect(err).not.toHaveBeenCalled();
  // The request is gone: a late reply does not reach success either.
  h.server.reply(frame!, { err_code: 0 });
  await h.platform.advance(30_000);
  expect(err).not.toHaveBeenCalled();
  expect(ok).not.toHaveBeenCalled();
});

test('in one late sweep: the >10 s request is dropped silently, a 7 s old room message gets its error', async () => {
  const h = await loggedIn();
  h.server.muted.add('custommsg');
  h.server.muted.add('im_chat');
  const customErr = jest.fn();
  const roomOk = jest.fn();
  const roomErr = jest.fn();
  h.zg.sendCustomCommand(['bob'], 'old', undefined, customErr);
  h.platform.skew(4000);
  h.zg.sendRoomMsg(1, 2, 'newer', roomOk, roomErr);
  const [chat] = h.server.requests('im_chat');
  h.platform.skew(7000);
  await h.platform.advance(0);
  expect(customErr).not.toHaveBeenCalled();
  expect(roomErr.mock.calls).toEqual([[TIMEOUT, chat!.header.seq, 1, 2, 'newer']]);
  expect(roomOk).not.toHaveBeenCalled();
});

test('a reply before the sweep: success(seq, custom_msg) only', async () => {
  const h = await loggedIn();
  h.server.latencyMs = 4000; // answered after 4 s, before the 6 s sweep that would fail it
  const ok = jest.fn();
  const err = jest.fn();
  h.zg.sendCustomCommand(['bob'], 'hello', ok, err);
  const [frame] = h.server.requests('custommsg');
  await h.platform.advance(3999);
  expect(ok).not.toHaveBeenCalled();
  await h.platform.advance(1);
  expect(ok.mock.calls).toEqual([[frame!.header.seq, frame!.body.custom_msg]]);
  await h.platform.advance(30_000);
  expect(ok).toHaveBeenCalledTimes(1);
  expect(err).not.toHaveBeenCalled();
});

test('a socket drop fails every pending request with the same timeout error, then the session retries', async () => {
  const h = await loggedIn();
  h.server.muted.add('custommsg');
  h.server.muted.add('im_chat');
  const err1 = jest.fn();
  const err2 = jest.fn();
  const roomErr = jest.fn();
  h.zg.sendCustomCommand(['bob'], 'one', undefined, err1);
  h.zg.sendCustomCommand(['bob'], { two: 2 }, undefined, err2);
  h.zg.sendRoomMsg(2, 3, 'chat', undefined, roomErr);
  h.server.socket.drop();
  await flush();
  expect(err1.mock.calls).toEqual([[TIMEOUT, 3, 'one']]);
  expect(err2.mock.calls).toEqual([[TIMEOUT, 4, '{"two":2}']]);
  expect(roomErr.mock.calls).toEqual([[TIMEOUT, 5, 2, 3, 'chat']]);
  expect(h.calls.onTempBroken).toEqual([[]]);
  await h.platform.advance(30_000);
  expect(h.calls.onReconnect).toEqual([[]]);
  expect(err1).toHaveBeenCalledTimes(1);
  expect(err2).toHaveBeenCalledTimes(1);
  expect(roomErr).toHaveBeenCalledTimes(1);
});
