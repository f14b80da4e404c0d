/** @jest-environment node */
/**
 * Cloud-proxy pieces without nginx: the `proxy` config section (bad fields named, the cross-checks),
 * proxy tokens (an HMAC vector computed with openssl, not with our code; tampering, expiry, lifetime,
 * another app), the TURN URL handed out through the proxy, the nginx.conf it runs with (the ALPN split,
 * one process, nothing outside its prefix) and `zegoclient-server proxy-token`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintProxyToken, proxyRefusal, verifyProxyToken } from '../../../src/server/auth/proxyToken';
import { resolveConfig } from '../../../src/server/config';
import { nginxConfig } from '../../../src/server/proxy/nginxConfig';
import { proxyTurnUrl } from '../../../src/server/proxy/proxyFeed';
import { userIds } from '../../../src/server/proxy/ProxyService';
import { runTokenCli } from '../../../src/server/tokenCli';

const SIGN = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const APPID = 1739272706;
const NOW = 1_800_000_000_000;

describe('proxy config', () => {
  test('off by default: npm start needs no nginx', () => {
    expect(resolveConfig().proxy).toMatchObject({
      enabled: false,
      port: 443,
      binary: 'nginx',
      user: 'nobody',
    });
  });

  test.each([
    [{ nope: 1 }, /proxy\.nope is not a known setting/],
    [{ enabled: 'yes' }, /proxy\.enabled must be true or false/],
    [{ port: -1 }, /proxy\.port must be an integer from 0 to 65535/],
    [{ publicPort: 65536 }, /proxy\.publicPort must be an integer/],
    [{ listenIps: ['x'] }, /proxy\.listenIps must be a list of IP addresses/],
    [{ publicHost: 'a b' }, /proxy\.publicHost must be a host name or an IP/],
    [{ binary: '' }, /proxy\.binary must not be empty/],
    [{ binary: 'nginx; rm' }, /proxy\.binary must be a file name or path/],
    [{ tlsCert: '/x.pem' }, /proxy\.tlsCert and proxy\.tlsKey go together/],
    [
      { enabled: true, tlsCert: '/no/such.pem', tlsKey: '/no/such.key' },
      /proxy\.tlsCert must name a readable file/,
    ],
    [{ tlsCert: 'a b', tlsKey: 'c' }, /proxy\.tlsCert must name a readable file/],
    [{ user: 'Root!' }, /proxy\.user must be a user name/],
    [{ workerConnections: 1 }, /proxy\.workerConnections must be an integer from 64/],
    [{ enabled: true, port: 8080 }, /proxy\.port must differ from port \(8080\)/],
    [{ enabled: true, port: 3478 }, /proxy\.port must differ from turn\.port/],
  ])('%j is refused, the field named', (proxy, why) => {
    expect(() => resolveConfig({ proxy } as never)).toThrow(why);
  });

  test('it needs our own coturn when there is media: TURN off or external TURN is refused', () => {
    expect(() => resolveConfig({ proxy: { enabled: true }, turn: { enabled: false } })).toThrow(
      /proxy\.enabled needs the coturn the server spawns/,
    );
    expect(() =>
      resolveConfig({
        proxy: { enabled: true },
        turn: { servers: [{ urls: ['turn:t.example:3478'], secret: 's3cret-s3cret-s3cret' }] },
      }),
    ).toThrow(/proxy\.enabled needs the coturn/);
    // Room plane only: nothing to relay, the proxy carries the signalling alone.
    expect(
      resolveConfig({ proxy: { enabled: true }, janus: { enabled: false }, turn: { enabled: false } }).proxy
        .enabled,
    ).toBe(true);
  });
});

describe('proxy tokens', () => {
  const appSignOf = (appid: number) => (appid === APPID ? SIGN : undefined);

  test('the signature is HMAC-SHA256 over "zgp1:" and netstrings, keyed with the AppSign bytes (openssl vector)', () => {
    const token = mintProxyToken({ appid: APPID, appSign: SIGN, now: NOW, ttlS: 3600, nonce: 'abcdefgh' });
    const expired = NOW / 1000 + 3600;
    const msg = `zgp1:10:${APPID},10:${expired},8:abcdefgh,`;
    const mac = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${SIGN}`], {
      input: msg,
      encoding: 'utf8',
    })
      .trim()
      .split(' ')
      .pop();
    expect(token).toBe(`zgp1.${APPID}.${expired}.abcdefgh.${mac}`);
    expect(verifyProxyToken({ token, appSignOf, now: NOW })).toEqual({ appid: APPID, expired });
  });

  test.each([
    ['absent', undefined, /no cloud-proxy token/, 1000000021],
    ['not a string', 42, /no cloud-proxy token/, 1000000021],
    ['malformed', 'zgp1.x', /malformed/, 1000000021],
    ['another version', () => tok().replace(/^zgp1/, 'zgp2'), /malformed/, 1000000021],
    [
      'a flipped signature bit',
      () => tok().replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')),
      /does not verify/,
      1000000021,
    ],
    [
      'a later expiry',
      () =>
        tok()
          .split('.')
          .map((f, i) => (i === 2 ? String(Number(f) + 1) : f))
          .join('.'),
      /does not verify/,
      1000000021,
    ],
    ['an unknown appid', () => tok().replace(`.${APPID}.`, '.42.'), /unknown appid 42/, 1000000021],
    ['expired', () => tok({ now: NOW - 7200_000, ttlS: 60 }), /expired/, 1000000022],
    [
      'a lifetime over the limit',
      () => tok({ ttlS: 8 * 24 * 3600 }),
      /lifetime over the 604800 s/,
      1000000021,
    ],
  ])('%s: refused with its code', (_what, token, why, code) => {
    const v = verifyProxyToken({ token: typeof token === 'function' ? token() : token, appSignOf, now: NOW });
    expect(v).toMatchObject({ code });
    expect((v as { message: string }).message).toMatch(why);
  });

  function tok(o: { now?: number; ttlS?: number } = {}) {
    return mintProxyToken({ appid: APPID, appSign: SIGN, now: NOW, ...o });
  }

  test("a login must be for the token's app, and before its expiry (checked again at login time)", () => {
    const v = verifyProxyToken({ token: tok({ ttlS: 60 }), appSignOf, now: NOW });
    expect(proxyRefusal(v, APPID, NOW)).toBeNull();
    expect(proxyRefusal(v, 7, NOW)).toMatchObject({
      code: 1000000021,
      message: expect.stringMatching(/for appid/),
    });
    expect(proxyRefusal(v, APPID, NOW + 61_000)).toMatchObject({ code: 1000000022 });
    expect(proxyRefusal({ code: 1000000021, message: 'x' }, APPID, NOW)).toMatchObject({ code: 1000000021 });
  });
});

describe('through the proxy', () => {
  const proxy = resolveConfig().proxy;

  test('the TURN URL names the proxy: publicHost, else the Host the page used (443 when it names none)', () => {
    expect(proxyTurnUrl(proxy, 8443, 'p.example.com:8443')).toBe('turns:p.example.com:8443?transport=tcp');
    expect(proxyTurnUrl(proxy, 443, 'p.example.com')).toBe('turns:p.example.com:443?transport=tcp');
    expect(proxyTurnUrl(proxy, 443, '[2001:db8::1]')).toBe('turns:[2001:db8::1]:443?transport=tcp');
    expect(proxyTurnUrl({ ...proxy, publicHost: 'edge.example.com' }, 8443, 'x:1')).toBe(
      'turns:edge.example.com:8443?transport=tcp',
    );
    expect(proxyTurnUrl({ ...proxy, publicHost: 'edge.example.com', publicPort: 443 }, 8443, 'x:1')).toBe(
      'turns:edge.example.com:443?transport=tcp',
    );
  });

  test('nginx.conf: ALPN splits one port, TLS ends in nginx, one process, everything inside the prefix', () => {
    const conf = nginxConfig({
      dir: '/tmp/zp',
      streamModule: '/usr/lib/nginx/modules/ngx_stream_module.so',
      listen: [
        { ip: '0.0.0.0', port: 443 },
        { ip: '::', port: 443 },
      ],
      certFile: '/tmp/zp/cert.pem',
      keyFile: '/tmp/zp/key.pem',
      nodeSocket: '/tmp/zp/node.sock',
      turn: { host: '127.0.0.1', port: 3478 },
      workerConnections: 8192,
      maxConnectionsPerIp: 256,
    });
    expect(conf).toMatch(
      /^load_module \/usr\/lib\/nginx\/modules\/ngx_stream_module\.so;\nmaster_process off;/,
    );
    expect(conf).toContain(
      'map $ssl_preread_alpn_protocols $zego_route {\n    "" unix:/tmp/zp/turn.sock;\n    default unix:/tmp/zp/https.sock;\n  }',
    );
    expect(conf).toContain(
      'listen 0.0.0.0:443 reuseport;\n    listen [::]:443 reuseport;\n    ssl_preread on;',
    );
    expect(conf).toContain('limit_conn zego_perip 256;');
    expect(conf).toContain('listen unix:/tmp/zp/turn.sock ssl proxy_protocol;');
    expect(conf).toContain('proxy_pass 127.0.0.1:3478;');
    expect(conf).toContain('upstream zego_node { server unix:/tmp/zp/node.sock; }');
    expect(conf).toContain('proxy_set_header X-Real-IP $proxy_protocol_addr;');
    expect(conf.match(/ssl_certificate \/tmp\/zp\/cert\.pem;/g)).toHaveLength(2);
    // Nothing of the system's nginx: every path is under the prefix, no user directive (ignored in
    // single-process mode: ProxyService drops root itself), no access log (tokens travel in URLs).
    const paths = conf
      .replace('http://zego_node', '')
      .match(/\/[\w./-]+/g)!
      .filter((p) => !p.startsWith('/usr/lib/nginx/modules/'));
    expect(paths.every((p) => p.startsWith('/tmp/zp/'))).toBe(true);
    expect(conf).not.toMatch(/^\s*user /m);
    expect(conf).toContain('access_log off;');
    // Without TURN: no TURN server block.
    expect(
      nginxConfig({
        ...{
          dir: '/d',
          streamModule: '',
          listen: [{ ip: '127.0.0.1', port: 1 }],
          certFile: '/d/c',
          keyFile: '/d/k',
          nodeSocket: '/d/n',
          workerConnections: 64,
          maxConnectionsPerIp: 1,
        },
        turn: null,
      }),
    ).not.toContain('proxy_pass 127');
  });

  test('userIds reads /etc/passwd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zego-passwd-'));
    try {
      const f = join(dir, 'passwd');
      writeFileSync(
        f,
        'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
      );
      expect(userIds('nobody', f)).toEqual({ uid: 65534, gid: 65534 });
      expect(userIds('nobod', f)).toBeNull();
      expect(userIds('nobody', join(dir, 'none'))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('zegoclient-server proxy-token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zego-proxy-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (argv: string[], config: object) => {
    const file = join(dir, `c${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(config));
    let out = '';
    let err = '';
    const status = runTokenCli(
      'proxy-token',
      [...argv, '--config', file],
      {},
      {
        out: (t) => (out += t),
        err: (t) => (err += t),
      },
    );
    return { status, out, err };
  };

  test('prints a token that verifies for the app, with --ttl', () => {
    const ok = run(['--appid', String(APPID), '--ttl', '120'], {
      apps: [{ appid: APPID, appSign: SIGN }],
      janus: { enabled: false },
      turn: { enabled: false },
      proxy: { enabled: true, port: 0 },
    });
    expect(ok.status).toBe(0);
    expect(ok.err).toBe('');
    const v = verifyProxyToken({ token: ok.out.trim(), appSignOf: () => SIGN });
    expect(v).toMatchObject({ appid: APPID });
    expect((v as { expired: number }).expired - Date.now() / 1000).toBeGreaterThan(110);
  });

  test('notes a config without the proxy; refuses an unknown app, a bad ttl, dev mode without devAppSign', () => {
    const apps = { apps: [{ appid: APPID, appSign: SIGN }] };
    expect(run(['--appid', String(APPID)], apps)).toMatchObject({
      status: 0,
      err: expect.stringMatching(/does not enable the cloud proxy/),
    });
    expect(run(['--appid', '7'], apps)).toMatchObject({
      status: 2,
      err: expect.stringMatching(/appid 7 is not in the config/),
    });
    expect(run(['--appid', String(APPID), '--ttl', '0'], apps)).toMatchObject({
      status: 2,
      err: expect.stringMatching(/--ttl must be/),
    });
    expect(run(['--appid', String(APPID), '--id-name', 'x'], apps)).toMatchObject({
      status: 2,
      err: expect.stringMatching(/unknown argument/),
    });
    expect(run(['--appid', String(APPID)], {})).toMatchObject({
      status: 2,
      err: expect.stringMatching(/devAppSign/),
    });
  });
});
