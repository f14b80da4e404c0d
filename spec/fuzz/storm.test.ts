/**
 * Connection storms: TCP connections that never send a byte and WebSockets that never log in are
 * closed (http.headersTimeoutMs, room.loginDeadlineMs); the connection caps (limits.maxConnectionsPerIp,
 * limits.maxConnections) refuse what is beyond them; the server stays healthy and the bystander served.
 * Distinct loopback source addresses (127.0.0.2, .3, .4: all of 127/8 is local) stand for distinct
 * clients.
 */
import { connect, type Socket } from 'node:net';
import { CloseCode } from '../../src/protocol/errors';
import { Target } from './lib/harness';
import { rawRequest } from './lib/rawHttp';
import { fuzzConfig, sleep } from './lib/server';
import { Sock, isMediaPush, isRoomPush } from './lib/sockets';

jest.setTimeout(60_000);

/** Opens a TCP connection and sends nothing; `closedAt` is set when the server closes it. */
class Idle {
  readonly sock: Socket;
  closedAt = 0;
  opened = false;
  constructor(port: number, localAddress?: string) {
    this.sock = connect({ port, host: '127.0.0.1', localAddress });
    this.sock.on('connect', () => (this.opened = true));
    this.sock.on('data', () => {
      /* a 408 before the close is fine */
    });
    this.sock.on('error', () => {
      /* the close follows */
    });
    this.sock.on('close', () => (this.closedAt = Date.now()));
  }
  get closed(): boolean {
    return this.closedAt > 0;
  }
}

async function waitUntil(ms: number, done: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(50);
}

describe('idle connections are closed', () => {
  const HEADERS_TIMEOUT_MS = 1000;
  const LOGIN_DEADLINE_MS = 1000;
  const t = new Target(
    fuzzConfig({
      http: { headersTimeoutMs: HEADERS_TIMEOUT_MS },
      room: { loginDeadlineMs: LOGIN_DEADLINE_MS },
    }),
  );
  beforeAll(() => t.start());
  afterAll(() => t.stop());

  test('100 TCP connections that never send a byte are closed after the headers timeout', async () => {
    const started = Date.now();
    const idle = Array.from({ length: 100 }, () => new Idle(t.srv.port));
    await waitUntil(HEADERS_TIMEOUT_MS + 3000, () => idle.every((c) => c.closed));
    const open = idle.filter((c) => !c.closed).length;
    for (const c of idle) c.sock.destroy();
    const problems = await t.problems();
    if (open)
      throw new Error(
        `${open} of 100 idle connections still open ${Date.now() - started} ms after connecting ` +
          `(http.headersTimeoutMs ${HEADERS_TIMEOUT_MS})`,
      );
    expect(problems).toEqual([]);
  });

  test('60 room and 20 media WebSockets that never log in are closed 4006', async () => {
    const socks = await Promise.all([
      ...Array.from({ length: 60 }, () => Sock.open(t.srv.ws('/ws'), isRoomPush)),
      ...Array.from({ length: 20 }, () => Sock.open(t.srv.ws('/media'), isMediaPush)),
    ]);
    await waitUntil(LOGIN_DEADLINE_MS + 3000, () => socks.every((s) => s.closed));
    const codes = new Map<string, number>();
    for (const s of socks) {
      const k = s.closed ? String(s.closed.code) : 'still open';
      codes.set(k, (codes.get(k) ?? 0) + 1);
      s.terminate();
    }
    const problems = await t.problems();
    expect(Object.fromEntries(codes)).toEqual({ [CloseCode.LoginTimeout]: 80 });
    expect(problems).toEqual([]);
  });
});

describe('connection caps', () => {
  const PER_IP = 20;
  const TOTAL = 45;
  const t = new Target(
    fuzzConfig({
      janus: { enabled: false },
      // Long enough that the idle connections holding the caps stay open during the test.
      http: { headersTimeoutMs: 30_000, requestTimeoutMs: 60_000 },
      limits: { maxConnectionsPerIp: PER_IP, maxConnections: TOTAL },
    }),
  );
  beforeAll(() => t.start());
  afterAll(() => t.stop());

  /** Opens `n` idle connections from one address; resolves after `settleMs` with them. */
  async function hold(n: number, from: string, settleMs = 500): Promise<Idle[]> {
    const list = Array.from({ length: n }, () => new Idle(t.srv.port, from));
    await sleep(settleMs);
    return list;
  }

  /** A request from `from` beyond a cap: it must not be served (closed, or a non-2xx status). */
  async function refused(from: string): Promise<string | null> {
    const o = await rawRequest(
      t.srv.port,
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
      2000,
      from,
    );
    if (o.kind === 'status' && / 2\d\d /.test(`${o.line} `)) return `served: ${o.line}`;
    return null;
  }

  test('beyond limits.maxConnectionsPerIp and limits.maxConnections new connections are refused', async () => {
    const held: Idle[] = [];
    try {
      // One client (127.0.0.2) fills its own cap: all 20 are kept, the 21st is refused.
      held.push(...(await hold(PER_IP, '127.0.0.2')));
      const kept = held.filter((c) => c.opened && !c.closed).length;
      expect(kept).toBe(PER_IP);
      const perIp = await refused('127.0.0.2');
      if (perIp) throw new Error(`a ${PER_IP + 1}st connection from 127.0.0.2 was ${perIp}`);
      // Another client is not affected by the first one's cap.
      const other = await rawRequest(
        t.srv.port,
        Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
        2000,
        '127.0.0.3',
      );
      expect(other.kind === 'status' ? other.line : other.kind).toMatch(/^HTTP\/1\.1 200/);
      // A WebSocket from the capped client is refused too.
      const ws = await Sock.open(t.srv.ws('/ws'), isRoomPush, 2000, { localAddress: '127.0.0.2' }).then(
        async (s) => {
          const c = await s.waitClose(1500);
          s.terminate();
          return c ? null : 'a WebSocket from 127.0.0.2 beyond its cap was accepted and kept';
        },
        () => null,
      );
      if (ws) throw new Error(ws);
      // Total: 20 (127.0.0.2) + the bystander + 20 (127.0.0.3) + 4 (127.0.0.4) = 45; the next is refused.
      held.push(...(await hold(PER_IP, '127.0.0.3')));
      held.push(...(await hold(TOTAL - 2 * PER_IP - 1, '127.0.0.4')));
      const total = await refused('127.0.0.5');
      if (total) throw new Error(`a connection from a fresh address beyond the total cap was ${total}`);
    } finally {
      for (const c of held) c.sock.destroy();
    }
    await sleep(500);
    // Freed: the capped client is served again, the server is healthy, the bystander undisturbed.
    const again = await rawRequest(
      t.srv.port,
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
      2000,
      '127.0.0.2',
    );
    expect(again.kind === 'status' ? again.line : again.kind).toMatch(/^HTTP\/1\.1 200/);
    expect(await t.problems()).toEqual([]);
  });
});
