/**
 * The cloud proxy's entry points under hostile input, against the built CLI (a child process) with the
 * proxy on (real nginx on a free loopback port; room plane only, so no coturn is needed):
 * - `zegoclient-server proxy-token`: any argument list prints a token (exit 0) or one message (exit 2);
 * - the proxy token of a WebSocket that came through the proxy: any string is refused at login with
 *   1000000021 / 1000000022 (never let in, never a crash), the valid one logs in;
 * - any bytes on the proxy's port (plain TCP, TLS without ALPN, TLS with junk after the handshake): the
 *   connection is dropped, nginx and the server stay up, a proxied login still works afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import type WebSocket from 'ws';
import { CLI, APPID, fuzzConfig, requireBuild, startFuzzServer, type FuzzServer } from './lib/server';
import { isRoomPush, Sock } from './lib/sockets';

jest.setTimeout(180_000);

const DEV_APP_SIGN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const dir = mkdtempSync(join(tmpdir(), 'zego-fuzz-proxy-'));
let srv: FuzzServer;
let proxyPort: number;
let validToken: string;

beforeAll(async () => {
  requireBuild();
  srv = await startFuzzServer({
    ...fuzzConfig({ janus: { enabled: false }, proxy: { enabled: true, port: 0 } }),
    devAppSign: DEV_APP_SIGN,
  });
  const h = (await srv.health()) as { proxy?: { state: string; port: number } };
  if (h.proxy?.state !== 'up')
    throw new Error(`the proxy is not up: ${JSON.stringify(h.proxy)}\n${srv.output()}`);
  proxyPort = h.proxy.port;
  const file = join(dir, 'dev.json');
  writeFileSync(file, JSON.stringify({ devAppSign: DEV_APP_SIGN }));
  validToken = proxyToken(['--appid', String(APPID), '--config', file]).out.trim();
});
afterAll(async () => {
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function proxyToken(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'proxy-token', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

/** A login through the proxy with `token` in the URL: the reply's err_code (or what happened instead). */
async function loginThroughProxy(token: string, idName: string): Promise<number | string> {
  const url = `wss://127.0.0.1:${proxyPort}/ws?zg_proxy_token=${encodeURIComponent(token)}`;
  // ALPN http/1.1, as a browser's wss: offers (without it the proxy takes the connection for TURN).
  const options = { rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] } as WebSocket.ClientOptions;
  const sock = await Sock.open(url, isRoomPush, 5000, options);
  try {
    sock.sendJson({
      header: { Protocol: 'req', cmd: 'login', appid: APPID, seq: 1, session_id: '', room_id: 'fz' },
      body: {
        id_name: idName,
        nick_name: idName,
        role: 1,
        token: await srv.token(idName),
        version: '1.12.5',
        room_name: 'fz',
        user_state_flag: 0,
        room_create_flag: 1,
        client_type: 3,
        third_token: '',
      },
    });
    const o = await sock.next(5000);
    if (o.kind !== 'frame') return o.kind;
    return Number((o.frame.json as { body?: { err_code?: unknown } })?.body?.err_code);
  } finally {
    sock.terminate();
  }
}

test('proxy-token: any argument list prints a token or one usage message, never a stack trace', () => {
  const file = join(dir, 'apps.json');
  writeFileSync(file, JSON.stringify({ apps: [{ appid: APPID, appSign: DEV_APP_SIGN }] }));
  const arg = fc.oneof(
    fc.constantFrom('--appid', String(APPID), '42', '--ttl', '0', '60', '99999999999', '--config', file),
    fc.constantFrom('--help', '--appid=', '--ttl=-1', '--id-name', '--'),
    fc.string({ maxLength: 30 }).filter((s) => !s.includes('\0')),
  );
  fc.assert(
    fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
      const r = proxyToken(args);
      expect(r.signal).toBeNull();
      expect([0, 2]).toContain(r.status);
      if (r.status === 0) expect(r.out).toMatch(/^(zgp1\.\d+\.\d+\.[0-9a-f]{32}\.[0-9a-f]{64}\n|usage:)/);
      else expect(r.err).toMatch(/^zegoclient-server proxy-token: /);
      expect(r.err).not.toMatch(/\n\s+at .*\(/);
    }),
    { numRuns: 40, seed: 14 },
  );
});

test('any proxy token string: refused at login with the proxy code, the valid one logs in', async () => {
  expect(validToken).toMatch(/^zgp1\./);
  expect(await loginThroughProxy(validToken, 'fz-valid')).toBe(0);
  // Mutations of a valid token (each field, the separators) and arbitrary text.
  const mutated = fc
    .tuple(fc.nat({ max: validToken.length - 1 }), fc.string({ minLength: 0, maxLength: 3 }))
    .map(([i, s]) => validToken.slice(0, i) + s + validToken.slice(i + 1));
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(mutated, fc.string({ maxLength: 200 }), fc.fullUnicodeString({ maxLength: 80 })),
      async (token) => {
        fc.pre(token !== validToken);
        const code = await loginThroughProxy(token, `fz-${n++}`);
        expect([1000000021, 1000000022]).toContain(code);
      },
    ),
    { numRuns: 40, seed: 14 },
  );
  expect(srv.alive()).toBe(true);
});

/**
 * Sends `bytes` to the proxy port (over TLS when `tls`, with `alpn`), waits for the close, bounded;
 * resolves with whether the connection (and handshake) was made.
 */
function throwAt(bytes: Uint8Array, tls: false | { alpn?: string[] }): Promise<boolean> {
  let made = false;
  return new Promise((resolve) => {
    const s = tls
      ? tlsConnect({ host: '127.0.0.1', port: proxyPort, rejectUnauthorized: false, ALPNProtocols: tls.alpn })
      : tcpConnect({ host: '127.0.0.1', port: proxyPort });
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve(made);
    };
    const t = setTimeout(done, 1500);
    s.once(tls ? 'secureConnect' : 'connect', () => {
      made = true;
      s.end(Buffer.from(bytes));
    });
    s.on('error', done);
    s.on('close', done);
    s.on('data', () => {});
  });
}

test('any bytes on the proxy port: dropped, nginx and the server stay up, a proxied login still works', async () => {
  const before = (await srv.health()) as { proxy: { pid: number } };
  let made = 0;
  let reachable = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 600 }),
      fc.constantFrom<false | { alpn?: string[] }>(false, {}, { alpn: ['http/1.1'] }, { alpn: ['h2'] }),
      async (bytes, tls) => {
        // TLS without ALPN is the TURN route: this server has no TURN, so nginx ends the handshake; and
        // nginx's HTTPS refuses an ALPN list without http/1.1 (no_application_protocol).
        if (!tls || tls.alpn?.includes('http/1.1')) reachable++;
        if (await throwAt(bytes, tls)) made++;
      },
    ),
    { numRuns: 40, seed: 14 },
  );
  // Every connection (and handshake on the HTTPS route) was made: the proxy took the bytes.
  expect(reachable).toBeGreaterThan(10);
  expect(made).toBe(reachable);
  const after = (await srv.health()) as { proxy: { state: string; pid: number; starts: number } };
  expect(after.proxy).toMatchObject({ state: 'up', pid: before.proxy.pid, starts: 1 });
  expect(await loginThroughProxy(validToken, 'fz-after')).toBe(0);
});
