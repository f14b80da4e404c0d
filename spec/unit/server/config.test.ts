/** @jest-environment node */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientOfferPlayOf, loadConfig, resolveConfig } from '../../../src/server/config';

const SIGN = '0x01,'.repeat(31) + '0x02';

test('embedded defaults: dev mode on 127.0.0.1:8080 with a random dev AppSign', () => {
  const c = resolveConfig();
  expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, apps: [], devMode: true });
  expect(c.devAppSign).toMatch(/^[0-9a-f]{64}$/);
  expect(resolveConfig().devAppSign).not.toBe(c.devAppSign);
  expect(c.room.heartbeatMs).toBe(10_000);
});

test('apps turn dev mode off and their AppSign is normalised', () => {
  const c = resolveConfig({ apps: [{ appid: 7, appSign: SIGN, relayUrl: 'http://127.0.0.1:9/relay' }] });
  expect(c.devMode).toBe(false);
  expect(c.apps[0]).toEqual({
    appid: 7,
    appSign: '01'.repeat(31) + '02',
    relayUrl: 'http://127.0.0.1:9/relay',
    thirdTokenUrl: undefined,
    streamAuth: false,
    serverSecret: '',
    allowV1Token: true,
    requireThirdToken: false,
    crossRoomPlay: true,
    clientOfferPlay: false,
  });
});

test.each([
  [{ janus: { rtpPortRange: '20100-20000' } }, /janus.rtpPortRange must be "min-max"/],
  [{ bridge: { portRange: '80-90' } }, /bridge.portRange must be "min-max" with 1024/],
  [{ bridge: { ips: ['localhost'] } }, /bridge.ips must be a list of at most 16 IPv4/],
  [{ bridge: { maxViewersPerUser: 0 } }, /bridge.maxViewersPerUser must be an integer from 1/],
  [{ bridge: { stun: 'stun:x' } }, /bridge.stun is not a known setting/],
  [
    { mix: { forwardHost: 'rtp://10.0.0.5:4000' } },
    /mix.forwardHost must be empty or a host name or address/,
  ],
  [{ mix: { forwardHost: 5 } }, /mix.forwardHost must be empty or a host name or address/],
  [
    { apps: [{ appid: 7, appSign: '01'.repeat(32), clientOfferPlay: 'yes' }] },
    /apps\[0\].clientOfferPlay must be true or false/,
  ],
  [{ janus: { urls: ['http://x'] } }, /janus.urls must be a list of ws/],
  [{ janus: { enabled: 'yes' } }, /janus.enabled must be true or false/],
  [{ janus: { iface: 'x' } }, /janus.iface is not a known setting/],
  [{ janus: { instances: 2, maxViewersPerFeed: -1 } }, /janus.maxViewersPerFeed must be an integer from 0/],
  [{ janus: { instances: 2, maxViewersPerFeed: 1.5 } }, /janus.maxViewersPerFeed must be an integer from 0/],
  [{ janus: { maxViewersPerFeed: 4 } }, /janus.maxViewersPerFeed relays to another Janus of a pool/],
  [
    { janus: { pool: ['ws://a:8188'], maxViewersPerFeed: 4 } },
    /janus.maxViewersPerFeed relays to another Janus of a pool: it needs .* two or more janus.pool entries/,
  ],
  [{ janus: { pool: 'ws://a:8188' } }, /janus.pool must be a list of Janus servers/],
  [{ janus: { pool: ['ws://a:8188', []] } }, /janus.pool\[1\] must not be empty/],
  [{ janus: { pool: ['http://a:8188'] } }, /janus.pool\[0\] must be a ws:\/\/ or wss:\/\/ URL \(got "http:/],
  [
    { janus: { pool: [['ws://a:8188', 5]] } },
    /janus.pool\[0\]\[1\] must be a ws:\/\/ or wss:\/\/ URL \(got 5\)/,
  ],
  [{ janus: { pool: [null] } }, /janus.pool\[0\] must be a ws:\/\/ or wss:\/\/ URL \(got null\)/],
  [{ janus: { pool: ['ws://'] } }, /janus.pool\[0\] must be a ws/],
  [
    { janus: { pool: ['ws://a:8188', ['ws://b:8188', 'ws://a:8188']] } },
    /janus.pool\[1\]\[1\] repeats ws:\/\/a:8188: each Janus is one entry of the pool/,
  ],
  [{ janus: { pool: Array.from({ length: 65 }, (_, i) => `ws://j${i}:8188`) } }, /at most 64/],
  [
    { janus: { pool: ['ws://a:8188', 'ws://b:8188'], urls: ['ws://c:8188'] } },
    /janus.pool cannot go with janus.urls \(urls is one Janus with failover addresses/,
  ],
  [
    { janus: { pool: ['ws://a:8188', 'ws://b:8188'], instances: 2 } },
    /janus.instances spawns Janus: it cannot go with janus.pool/,
  ],
  [
    { janus: { pool: ['ws://a:8188', { urls: ['ws://b:8188'], rtpHost: 'rtp://10.0.0.5:4000' }] } },
    /janus.pool\[1\].rtpHost must be a host name or IP address of that Janus as this node reaches it/,
  ],
  [
    { janus: { pool: ['ws://a:8188', { urls: 'ws://b:8188', rtpHost: 5 }] } },
    /janus.pool\[1\].rtpHost must be a host name or IP address/,
  ],
  [
    { janus: { pool: ['ws://a:8188', { rtpHost: '10.0.0.5' }] } },
    /janus.pool\[1\].urls is required \(a URL or a list of them\)/,
  ],
  [
    { janus: { pool: ['ws://a:8188', { urls: ['ws://b:8188'], rtpHosts: '10.0.0.5' }] } },
    /janus.pool\[1\] has unknown key rtpHosts \(an entry object takes "urls" and "rtpHost"\)/,
  ],
  [
    { janus: { pool: ['ws://a:8188', { urls: ['ws://b:8188', 'ws://a:8188'] }] } },
    /janus.pool\[1\].urls\[1\] repeats ws:\/\/a:8188/,
  ],
  [{ janus: { pool: ['ws://a:8188', { urls: [] }] } }, /janus.pool\[1\].urls must not be empty/],
  [
    { janus: { rtpHost: '10.0.0.5' } },
    /janus.rtpHost is for an external Janus \(janus.urls\): a spawned one/,
  ],
  [
    { janus: { pool: ['ws://a:8188', 'ws://b:8188'], rtpHost: '10.0.0.5' } },
    /janus.rtpHost goes with janus.urls; a pool entry gives its own/,
  ],
  [
    { janus: { urls: ['ws://a:8188'], rtpHost: '10.0.0.5:20000' } },
    /janus.rtpHost must be a host name or IP/,
  ],
  [{ media: { publicUrl: 'http://x/media' } }, /media.publicUrl must be empty or a ws/],
  [
    { apps: [{ appid: 1, appSign: 'ab'.repeat(32), streamAuth: 1 }] },
    /apps\[0\].streamAuth must be true or false/,
  ],
  [{ port: -1 }, /port must be an integer/],
  [{ host: '' }, /host must be/],
  [{ apps: [{ appid: 'x', appSign: SIGN }] }, /apps\[0\]\.appid/],
  [{ apps: [{ appid: 1, appSign: 'nope' }] }, /apps\[0\]\.appSign/],
  [
    {
      apps: [
        { appid: 1, appSign: SIGN },
        { appid: 1, appSign: SIGN },
      ],
    },
    /apps\[1\]\.appid duplicates/,
  ],
  [{ apps: [{ appid: 1, appSign: SIGN, relayUrl: 'ftp://x' }] }, /apps\[0\]\.relayUrl/],
  [{ room: { heartbeatMs: 5 } }, /room\.heartbeatMs/],
  [{ room: { heartbeat: 5 } }, /room\.heartbeat is not a known setting/],
  [{ limits: { burst: 0 } }, /limits\.burst/],
  [{ log: { level: 'loud' } }, /log\.level/],
  [{ colour: 'blue' }, /colour is not a known setting/],
  [{ apps: [{ appid: 1, appSign: SIGN, serverSecret: 'short' }] }, /apps\[0\]\.serverSecret must be the 32/],
  [{ apps: [{ appid: 1, appSign: SIGN, requireThirdToken: true }] }, /requireThirdToken needs thirdTokenUrl/],
  [{ limits: { maxOutboundBytes: 10 } }, /limits\.maxOutboundBytes/],
  [{ http: { healthAllow: 'x' } }, /http\.healthAllow must be a list/],
  [
    { http: { healthAllow: ['10.0.0.0/33'] } },
    /http\.healthAllow entry "10\.0\.0\.0\/33" is not an IP or a CIDR/,
  ],
  [{ http: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }, /http\.headersTimeoutMs must not exceed/],
  [{ auth: { maxTokenLifetimeS: 1 } }, /auth\.maxTokenLifetimeS/],
])('%j is refused, naming the field', (options, message) => {
  expect(() => resolveConfig(options as never)).toThrow(message);
});

test('janus.pool entries may give rtpHost (where this node sends RTP to that Janus); none: from the URL', () => {
  const turn = { allowedPeerIps: ['10.0.0.1-10.0.2.255'] };
  const j = resolveConfig({
    janus: {
      pool: [
        'ws://janus-a:8188',
        { urls: ['ws://10.0.1.6:8188', 'ws://10.0.2.6:8188'], rtpHost: '10.0.0.6' },
      ],
    },
    turn,
  }).janus;
  expect(j.pool).toEqual([['ws://janus-a:8188'], ['ws://10.0.1.6:8188', 'ws://10.0.2.6:8188']]);
  expect(j.rtpHosts).toEqual(['', '10.0.0.6']);
  // One external Janus (`urls`): janus.rtpHost.
  const one = resolveConfig({ janus: { urls: ['ws://a:8188'], rtpHost: 'janus-a.rtp' }, turn }).janus;
  expect([one.pool, one.rtpHosts]).toEqual([[['ws://a:8188']], ['janus-a.rtp']]);
  // Spawned: nothing to give (127.0.0.1).
  expect(resolveConfig({}).janus.rtpHosts).toEqual([]);
});

test('janus.pool: one entry per external Janus (a URL or its failover URLs); janus.urls stays one Janus', () => {
  const ips = { turn: { allowedPeerIps: ['10.0.0.5'] } };
  // The historical meaning kept: a flat `urls` list is ONE Janus with failover addresses (a pool of one).
  expect(resolveConfig({ janus: { urls: ['ws://a:8188', 'ws://a2:8188'] }, ...ips }).janus).toMatchObject({
    urls: ['ws://a:8188', 'ws://a2:8188'],
    pool: [['ws://a:8188', 'ws://a2:8188']],
  });
  const j = resolveConfig({
    janus: { pool: ['ws://a:8188', ['ws://b:8188', 'wss://b2.example:443/janus']], maxViewersPerFeed: 50 },
    ...ips,
  }).janus;
  expect(j).toMatchObject({
    urls: [],
    pool: [['ws://a:8188'], ['ws://b:8188', 'wss://b2.example:443/janus']],
    maxViewersPerFeed: 50,
    instances: 1,
  });
  // Spawned: no external Janus.
  expect(resolveConfig({}).janus.pool).toEqual([]);
  // External in any form: the TURN relay cannot guess the media servers' IPs.
  expect(() => resolveConfig({ janus: { pool: ['ws://a:8188', 'ws://b:8188'] } })).toThrow(
    /turn.allowedPeerIps must list the media servers' IPs when janus.urls or janus.pool is set/,
  );
});

test('command line beats environment beats file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zego-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ port: 1111, host: '127.0.0.3', room: { heartbeatMs: 2000 } }));
  expect(loadConfig(['--config', file], {})).toMatchObject({
    port: 1111,
    host: '127.0.0.3',
    room: { heartbeatMs: 2000 },
  });
  expect(loadConfig([], { ZEGO_CONFIG: file, PORT: '2222' })).toMatchObject({
    port: 2222,
    host: '127.0.0.3',
  });
  expect(
    loadConfig(['--port=3333', '--host', '127.0.0.4'], { ZEGO_CONFIG: file, PORT: '2222' }),
  ).toMatchObject({
    port: 3333,
    host: '127.0.0.4',
  });
});

test('bad command lines and files get clear errors', () => {
  expect(() => loadConfig(['--colour', 'x'], {})).toThrow(/--colour is not known/);
  expect(() => loadConfig(['--port'], {})).toThrow(/--port needs a value/);
  expect(() => loadConfig([], { PORT: 'eighty' })).toThrow(/port must be a number/);
  expect(() => loadConfig(['--config', '/nonexistent/c.json'], {})).toThrow(/cannot be read/);
  const dir = mkdtempSync(join(tmpdir(), 'zego-config-'));
  writeFileSync(join(dir, 'bad.json'), '{ nope');
  expect(() => loadConfig(['--config', join(dir, 'bad.json')], {})).toThrow(/not valid JSON/);
});

test('client-offer play: on for every app in dev mode, per app otherwise, never with the bridge off', () => {
  const dev = resolveConfig({});
  expect(clientOfferPlayOf(dev, 123)).toBe(true);
  expect(dev.bridge).toMatchObject({
    enabled: true,
    portRange: '20200-20399',
    ips: [],
    maxViewersPerUser: 8,
  });
  const apps = resolveConfig({
    apps: [
      { appid: 1, appSign: '01'.repeat(32), clientOfferPlay: true },
      { appid: 2, appSign: '01'.repeat(32) },
    ],
  });
  expect([1, 2, 3].map((a) => clientOfferPlayOf(apps, a))).toEqual([true, false, false]);
  expect(clientOfferPlayOf(resolveConfig({ bridge: { enabled: false } }), 1)).toBe(false);
});
