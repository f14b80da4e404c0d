/** @jest-environment node */
/**
 * TURN pieces without coturn: the `turn` config section (bad fields named), TURN REST credentials (a
 * vector computed with openssl, not with our code), the URLs, the relay's allowed peers, and the
 * turnserver.conf our coturn gets (no open relay, nothing outside its temp dir).
 */
import { resolveConfig } from '../../../src/server/config';
import { allowedPeers, coturnConfig, relayIpOf } from '../../../src/server/turn/coturnConfig';
import { hostOf, turnCredential, turnUrls, turnUser } from '../../../src/server/turn/credentials';
import { spkiHash, selfSignedCert } from '../../../src/server/turn/tlsCert';
import { X509Certificate } from 'node:crypto';

describe('turn config', () => {
  test('defaults: coturn spawned on 3478 / 5349, UDP then TLS then TCP, relay-only off', () => {
    const t = resolveConfig().turn;
    expect(t).toMatchObject({
      enabled: true,
      binary: 'turnserver',
      port: 3478,
      tlsPort: 5349,
      transports: ['udp', 'tls', 'tcp'],
      relayOnly: false,
      servers: [],
      allowedPeerIps: [],
    });
  });

  test.each([
    [{ nope: 1 }, /turn\.nope is not a known setting/],
    [{ enabled: 'yes' }, /turn\.enabled must be true or false/],
    [{ port: 70000 }, /turn\.port must be an integer from 0 to 65535/],
    [{ port: 4000, tlsPort: 4000 }, /turn\.tlsPort must differ from turn\.port/],
    [{ transports: [] }, /turn\.transports must list some of udp, tcp, tls/],
    [{ transports: ['udp', 'udp'] }, /turn\.transports/],
    [{ transports: ['dtls'] }, /turn\.transports/],
    [{ listenIps: ['not-an-ip'] }, /turn\.listenIps must be a list of IP addresses/],
    [{ allowedPeerIps: ['10.0.0.1-x'] }, /turn\.allowedPeerIps must be a list of IP addresses or ranges/],
    [{ publicHost: 'http://x' }, /turn\.publicHost must be a host name or an IP/],
    [{ relayIp: 'x' }, /turn\.relayIp must be an IP address/],
    [{ relayPortRange: '60000-50000' }, /turn\.relayPortRange must be "min-max"/],
    [{ secret: 'short' }, /turn\.secret must be empty or 16 to 256 characters/],
    [{ secret: 'sixteen chars with space' }, /turn\.secret must be printable ASCII without spaces/],
    [{ secret: 'abcdefghijklmnop#' }, /turn\.secret must be printable ASCII/],
    [{ realm: 'a b' }, /turn\.realm must be a realm name/],
    [{ credentialTtlS: 10 }, /turn\.credentialTtlS must be an integer from 60/],
    [{ tlsCert: '/x.pem' }, /turn\.tlsCert and turn\.tlsKey go together/],
    [
      { tlsCert: '/nonexistent/c.pem', tlsKey: '/nonexistent/k.pem' },
      /turn\.tlsCert must name a readable PEM file/,
    ],
    [{ userQuota: 0 }, /turn\.userQuota must be an integer from 1/],
    [
      { servers: [{ urls: [], secret: 'x' }] },
      /turn\.servers\[0\]\.urls must be a non-empty list of turn: or turns: URLs/,
    ],
    [{ servers: [{ urls: ['stun:x:3478'], secret: 'x' }] }, /turn\.servers\[0\]\.urls/],
    [{ servers: [{ urls: ['turn:x:3478'] }] }, /turn\.servers\[0\]\.secret must be/],
    [
      { servers: [{ urls: ['turn:x:3478'], secret: 's', extra: 1 }] },
      /turn\.servers\[0\]\.extra is not a known setting/,
    ],
    [{ relayOnly: 1 }, /turn\.relayOnly must be true or false/],
  ])('%j is refused, naming the field', (turn, msg) => {
    expect(() => resolveConfig({ turn } as never)).toThrow(msg);
  });

  test('external Janus: the relay peers must be listed (they cannot be derived), unless TURN is external or off', () => {
    const janus = { urls: ['ws://janus:8188'] };
    expect(() => resolveConfig({ janus })).toThrow(/turn\.allowedPeerIps must list the media servers' IPs/);
    expect(resolveConfig({ janus, turn: { allowedPeerIps: ['10.1.2.3'] } }).turn.allowedPeerIps).toEqual([
      '10.1.2.3',
    ]);
    expect(() => resolveConfig({ janus, turn: { enabled: false } })).not.toThrow();
    expect(() =>
      resolveConfig({ janus, turn: { servers: [{ urls: ['turn:t.example:3478'], secret: 'x' }] } }),
    ).not.toThrow();
  });

  test('apps[].relayOnly is checked', () => {
    const sign =
      '0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f,0x10,0x11,0x12,0x13,0x14,0x15,0x16,0x17,0x18,0x19,0x1a,0x1b,0x1c,0x1d,0x1e,0x1f,0x20';
    expect(resolveConfig({ apps: [{ appid: 1, appSign: sign, relayOnly: true }] }).apps[0]!.relayOnly).toBe(
      true,
    );
    expect(() => resolveConfig({ apps: [{ appid: 1, appSign: sign, relayOnly: 'no' as never }] })).toThrow(
      /apps\[0\]\.relayOnly must be true or false/,
    );
  });
});

describe('TURN REST credentials', () => {
  test('username = expiry:user, credential = base64(HMAC-SHA1(secret, username)) (vector from openssl)', () => {
    // printf '%s' '1700000400:1739272706-abc' | openssl dgst -sha1 -hmac 'turn-secret-0123456789' -binary | base64
    const c = turnCredential('turn-secret-0123456789', '1739272706-abc', 3600, 1_699_996_700_000);
    expect(c).toEqual({
      username: '1700000400:1739272706-abc',
      credential: 'E9Fc7QxfllyRAJmV7M77vDFgpQQ=',
      expiry: 1_700_000_400,
    });
  });

  test('the expiry is at least the TTL away, rounded up to 10 minutes (one username per user and step)', () => {
    const now = 1_700_000_123_456;
    const a = turnCredential('s'.repeat(16), 'u', 3600, now);
    const b = turnCredential('s'.repeat(16), 'u', 3600, now + 60_000);
    expect(a.expiry).toBeGreaterThanOrEqual(now / 1000 + 3600);
    expect(a.expiry % 600).toBe(0);
    expect(a.expiry - (now / 1000 + 3600)).toBeLessThan(600);
    expect(b.username).toBe(a.username);
  });

  test('the user part: the app and a hash of the idName, no separator', () => {
    expect(turnUser(5, 'alice')).toMatch(/^5-[0-9a-f]{16}$/);
    expect(turnUser(5, 'alice')).toBe(turnUser(5, 'alice'));
    expect(turnUser(5, 'alice')).not.toBe(turnUser(6, 'alice'));
    expect(turnUser(5, 'a:b')).not.toContain(':');
  });

  test('URLs: UDP and TCP on the port, TLS on the TLS port; IPv6 in brackets', () => {
    expect(turnUrls('t.example', { port: 3478, tlsPort: 443 }, ['udp', 'tls', 'tcp'])).toEqual([
      'turn:t.example:3478?transport=udp',
      'turns:t.example:443?transport=tcp',
      'turn:t.example:3478?transport=tcp',
    ]);
    expect(turnUrls('::1', { port: 1, tlsPort: 2 }, ['udp'])).toEqual(['turn:[::1]:1?transport=udp']);
  });

  test('hostOf: the host of a Host header', () => {
    expect(hostOf('example.com:8080')).toBe('example.com');
    expect(hostOf('127.0.1.1')).toBe('127.0.1.1');
    expect(hostOf('[::1]:80')).toBe('::1');
    expect(hostOf('')).toBe('');
    expect(hostOf('a b')).toBe('');
  });
});

describe('the relay and its coturn config', () => {
  const base = resolveConfig({ janus: { interface: '127.0.0.2', iceEnforceList: '127.0.0.2' } });

  test('allowed peers: the configured list, else Janus interface / publicIp / iceEnforceList, else this host', () => {
    expect(allowedPeers({ ...base.turn, allowedPeerIps: ['10.0.0.5'] }, base.janus)).toEqual(['10.0.0.5']);
    expect(allowedPeers(base.turn, base.janus)).toEqual(['127.0.0.2']);
    const ifs = {
      lo: [{ address: '127.0.0.1', internal: true }],
      eth0: [
        { address: '192.0.2.7', internal: false },
        { address: 'fe80::1', internal: false },
      ],
    } as never;
    const j = resolveConfig().janus;
    expect(allowedPeers(base.turn, { ...j, iceEnforceList: 'eth0', publicIp: '203.0.113.9' }, ifs)).toEqual([
      '203.0.113.9',
      '192.0.2.7',
      'fe80::1',
    ]);
    expect(allowedPeers(base.turn, j, ifs)).toEqual(['192.0.2.7']);
  });

  test('relay address: turn.relayIp, else the spawned Janus interface (it answers relays on it), else auto', () => {
    expect(relayIpOf({ ...base.turn, relayIp: '10.0.0.9' }, base.janus)).toBe('10.0.0.9');
    expect(relayIpOf(base.turn, base.janus)).toBe('127.0.0.2');
    expect(relayIpOf(base.turn, { ...base.janus, urls: ['ws://j:8188'] })).toBe('');
    expect(relayIpOf(base.turn, resolveConfig().janus)).toBe('');
  });

  const run = {
    dir: '/tmp/zc-x',
    listenIps: ['127.0.1.1'],
    port: 3478,
    tlsPort: 5349,
    secret: 'abcdefghijklmnopqrstuvwx',
    peers: ['127.0.0.2'],
    relayIp: '',
    certFile: '/tmp/zc-x/cert.pem',
    keyFile: '/tmp/zc-x/key.pem',
  };

  test('no open relay: every peer denied, then only the media servers allowed; no TCP relay', () => {
    const lines = coturnConfig(base.turn, run).split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'denied-peer-ip=0.0.0.0-255.255.255.255',
        'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
        'allowed-peer-ip=127.0.0.2',
        'no-tcp-relay',
        'no-multicast-peers',
        'use-auth-secret',
        'static-auth-secret=abcdefghijklmnopqrstuvwx',
        'listening-ip=127.0.1.1',
        'listening-port=3478',
        'tls-listening-port=5349',
        'cert=/tmp/zc-x/cert.pem',
        'user-quota=60',
        'total-quota=3000',
        'no-cli',
      ]),
    );
    // Loopback peers only because the media server is on loopback.
    expect(lines).toContain('allow-loopback-peers');
    expect(coturnConfig(base.turn, { ...run, peers: ['192.0.2.7'] })).not.toMatch(/allow-loopback-peers/);
  });

  test('nothing outside its own directory; quotas and bandwidth as configured; TLS off without a TLS port', () => {
    const t = { ...base.turn, maxBps: 500_000, bpsCapacity: 10_000_000 };
    const text = coturnConfig(t, { ...run, tlsPort: 0, relayIp: '127.0.1.1' });
    for (const m of text.matchAll(/=(\/[^\n]*)/g)) expect(m[1]!.startsWith('/tmp/zc-x/')).toBe(true);
    expect(text).toMatch(/^no-tls$/m);
    expect(text).not.toMatch(/tls-listening-port|^cert=/m);
    expect(text).toMatch(/^max-bps=500000$/m);
    expect(text).toMatch(/^bps-capacity=10000000$/m);
    expect(text).toMatch(/^relay-ip=127\.0\.1\.1$/m);
    expect(text).toMatch(/^log-file=stdout$/m);
  });

  test('the dev certificate: self-signed for the names given, its SPKI hash for Chromium', async () => {
    const { cert, key } = await selfSignedCert(['127.0.1.1', 'turn.test']);
    const x = new X509Certificate(cert);
    expect(x.subjectAltName).toMatch(/IP Address:127\.0\.1\.1/);
    expect(x.subjectAltName).toMatch(/DNS:turn\.test/);
    expect(x.checkPrivateKey(require('node:crypto').createPrivateKey(key))).toBe(true); // eslint-disable-line @typescript-eslint/no-require-imports
    expect(spkiHash(cert)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});

// hostOf is what a Host header gives; a non-IP literal stays a name.
test('hostOf keeps names', () => expect(hostOf('turn.example.com')).toBe('turn.example.com'));
