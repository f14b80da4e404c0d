/** @jest-environment node */
/** Calls in flight to business servers: bounded per socket, per user across sockets, and per app. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerCode } from '../../../src/protocol/errors';
import { checkPushUrl } from '../../../src/server/mix/pushPolicy';
import { CallLimiter, CallsBusy } from '../../../src/server/outbound/CallLimiter';

test('each bound refuses the call beyond it and names itself; a release frees every key it took', () => {
  const l = new CallLimiter({ perSocket: 2, perUser: 3, perApp: 4 });
  const s1 = {};
  const s2 = {};
  const a = l.acquire({ appid: 1, user: 'alice', socket: s1 });
  const b = l.acquire({ appid: 1, user: 'alice', socket: s1 });
  expect(typeof a).toBe('function');
  expect(typeof b).toBe('function');
  expect(l.acquire({ appid: 1, user: 'alice', socket: s1 })).toBe('socket');
  // Alice's second socket: the user bound (3) is reached after one more.
  const c = l.acquire({ appid: 1, user: 'alice', socket: s2 });
  expect(typeof c).toBe('function');
  expect(l.acquire({ appid: 1, user: 'alice', socket: s2 })).toBe('user');
  // Another user of the app: the app bound (4) is reached after one more.
  const d = l.acquire({ appid: 1, user: 'bob', socket: {} });
  expect(typeof d).toBe('function');
  expect(l.acquire({ appid: 1, user: 'carol', socket: {} })).toBe('app');
  // Another app is not affected; a call with no client (a webhook) counts against its app only.
  expect(typeof l.acquire({ appid: 2 })).toBe('function');
  expect(l.stats()).toEqual({ inFlight: 5, refused: { socket: 1, user: 1, app: 1 } });
  (a as () => void)();
  (a as () => void)(); // twice: nothing more is released
  expect(typeof l.acquire({ appid: 1, user: 'alice', socket: s1 })).toBe('function');
  expect(l.acquire({ appid: 1, user: 'dave', socket: {} })).toBe('app');
  for (const r of [b, c, d]) (r as () => void)();
  expect(l.stats().inFlight).toBe(2);
});

test('run: the call is not made over a bound (CallsBusy), and its slot is freed however it ends', async () => {
  const l = new CallLimiter({ perSocket: 1, perUser: 10, perApp: 10 });
  const socket = {};
  let release!: () => void;
  const slow = l.run(
    { appid: 1, user: 'a', socket },
    () => new Promise<string>((r) => (release = () => r('ok'))),
  );
  const made = jest.fn(async () => 'never');
  await expect(l.run({ appid: 1, user: 'a', socket }, made)).rejects.toBeInstanceOf(CallsBusy);
  expect(made).not.toHaveBeenCalled();
  release();
  await expect(slow).resolves.toBe('ok');
  await expect(
    l.run({ appid: 1, user: 'a', socket }, () => Promise.reject(new Error('down'))),
  ).rejects.toThrow('down');
  await expect(l.run({ appid: 1, user: 'a', socket }, async () => 'again')).resolves.toBe('again');
  expect(l.stats().inFlight).toBe(0);
});

test('push-URL approvals (relay.approveUrl) go through the same bounds: over them refused at once, never sent', async () => {
  let asked = 0;
  const biz = createServer((req, res) => {
    asked++;
    req.resume();
    setTimeout(() => res.end('ok'), 300);
  });
  await new Promise<void>((r) => biz.listen(0, '127.0.0.1', () => r()));
  const port = (biz.address() as AddressInfo).port;
  const cfg = {
    all: false,
    allowHosts: [],
    approveUrl: `http://127.0.0.1:${port}/approve`,
    approveTimeoutMs: 2000,
    maxTargetsPerStream: 4,
    maxRelays: 10,
  };
  const who = { appid: 5, roomId: 'r', idName: 'u', nickName: 'U', host: '' };
  const calls = new CallLimiter({ perSocket: 8, perUser: 1, perApp: 8 });
  try {
    const first = checkPushUrl('rtmp://cdn.example/live/a', who, 'a', cfg, () => null, calls);
    const second = checkPushUrl('rtmp://cdn.example/live/b', who, 'b', cfg, () => null, calls);
    await expect(second).rejects.toMatchObject({ code: ServerCode.RateLimited });
    await expect(first).resolves.toEqual({ kind: 'url', url: 'rtmp://cdn.example/live/a' });
    expect(asked).toBe(1);
    expect(calls.stats()).toEqual({ inFlight: 0, refused: { socket: 0, user: 1, app: 0 } });
  } finally {
    await new Promise((r) => biz.close(r));
  }
});
