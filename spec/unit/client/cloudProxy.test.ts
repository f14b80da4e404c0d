/**
 * ZegoClient.setCloudProxyConfig on a FakePlatform: the argument checks (the Express SDK checks none and
 * fails at connect time; we refuse at once, logged, and keep what was set), every socket of a client
 * created after it going to the proxies with the token, the next proxy on failure or silence, the one
 * that worked first afterwards, ICE forced through TURN over TLS on that proxy, and a refused proxy token
 * reaching the login error callback.
 */
import { ZegoClient } from '../../../src/client/compat/ZegoClient';
import { PROXY_CONNECT_MS, proxyUrl, relayVia } from '../../../src/client/platform/cloudProxy';
import { attachMedia } from '../../fakes/FakeMedia';
import { FakePlatform } from '../../fakes/FakePlatform';
import { FakeRoomServer } from '../../fakes/FakeRoomServer';

const P1 = { hostName: 'p1.example.com', port: 443 };
const P2 = { hostName: 'p2.example.com', port: 8443 };

afterEach(() => {
  expect(ZegoClient.setCloudProxyConfig([], '', false)).toBe(true);
});

/** A client on a fake platform whose server refuses sockets to hosts in `dead` and never opens `silent`. */
function rig(o: { dead?: string[]; silent?: string[]; media?: boolean } = {}) {
  const platform = new FakePlatform({ startMs: 0 });
  // The proxy reads the platform's media when the client is made (as the browser's, made on demand).
  const media = o.media ? attachMedia(platform) : undefined;
  const server = new FakeRoomServer(platform);
  const accept = platform.onConnect!;
  platform.onConnect = (s) => {
    const host = new URL(s.url).host;
    if (o.dead?.includes(host)) platform.setTimeout(() => s.drop(1006, 'refused'), 5);
    else if (!o.silent?.includes(host)) accept(s);
  };
  const zg = new ZegoClient(platform);
  expect(zg.config({ appid: 1, idName: 'alice', nickName: 'Alice', server: 'ws://rtc.example.com/ws' })).toBe(
    true,
  );
  const ok = jest.fn();
  const err = jest.fn();
  const login = () => zg.login('room1', 1, 'login-token', ok, err);
  return { platform, server, zg, ok, err, login, media, urls: () => platform.sockets.map((s) => s.url) };
}

describe('argument checks (synchronous: true taken, false refused and nothing changed)', () => {
  test.each([
    ['a list and a token', [P1, P2], 'tok', true, true],
    ['a port left out (443)', [{ hostName: 'p.example.com' }], 'tok', true, true],
    ['an IPv4 literal', [{ hostName: '203.0.113.7', port: 443 }], 'tok', true, true],
    ['an IPv6 literal', [{ hostName: '2001:db8::7', port: 443 }], 'tok', true, true],
    ['enable false with anything else', null, undefined, false, true],
    ['an empty list', [], 'tok', true, false],
    ['not a list', P1, 'tok', true, false],
    ['a host that is not a string', [{ hostName: 7, port: 443 }], 'tok', true, false],
    ['an empty host', [{ hostName: '', port: 443 }], 'tok', true, false],
    ['a host with a path', [{ hostName: 'p.example.com/x', port: 443 }], 'tok', true, false],
    ['a port out of range', [{ hostName: 'p.example.com', port: 70000 }], 'tok', true, false],
    ['a port that is a string', [{ hostName: 'p.example.com', port: '443' }], 'tok', true, false],
    ['a null entry', [null], 'tok', true, false],
    ['no token', [P1], undefined, true, false],
    ['an empty token', [P1], '', true, false],
    ['enable not a boolean', [P1], 'tok', 1, false],
  ])('%s', (_what, list, token, enable, taken) => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(ZegoClient.setCloudProxyConfig(list as never, token as never, enable as never)).toBe(taken);
    } finally {
      spy.mockRestore();
    }
  });

  test('a refused call keeps the proxy set before it', async () => {
    expect(ZegoClient.setCloudProxyConfig([P1], 'tok', true)).toBe(true);
    const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
    expect(ZegoClient.setCloudProxyConfig([{ hostName: '' }] as never, 'tok', true)).toBe(false);
    spy.mockRestore();
    const r = rig();
    r.login();
    await r.platform.advance(0);
    expect(r.urls()).toEqual(['wss://p1.example.com:443/ws?zg_proxy_token=tok']);
  });
});

describe('sockets through the proxies', () => {
  test('without the proxy (or with enable false) the page URL is used as it is', async () => {
    expect(ZegoClient.setCloudProxyConfig([P1], 'tok', true)).toBe(true);
    expect(ZegoClient.setCloudProxyConfig(null as never, '', false)).toBe(true);
    const r = rig();
    r.login();
    await r.platform.advance(0);
    expect(r.urls()).toEqual(['ws://rtc.example.com/ws']);
    expect(r.ok).toHaveBeenCalledTimes(1);
  });

  test('the room socket goes to the first proxy, wss, same path, with the token; the login works', async () => {
    expect(ZegoClient.setCloudProxyConfig([P1, P2], 'zgp1.1.2.abc/+&=', true)).toBe(true);
    const r = rig();
    r.login();
    await r.platform.advance(0);
    expect(r.urls()).toEqual(['wss://p1.example.com:443/ws?zg_proxy_token=zgp1.1.2.abc%2F%2B%26%3D']);
    expect(r.ok).toHaveBeenCalledTimes(1);
    expect(r.err).not.toHaveBeenCalled();
  });

  test('a client created before the call keeps going direct', async () => {
    const r = rig();
    expect(ZegoClient.setCloudProxyConfig([P1], 'tok', true)).toBe(true);
    r.login();
    await r.platform.advance(0);
    expect(r.urls()).toEqual(['ws://rtc.example.com/ws']);
  });

  test('the first proxy refuses: the second is used, and later sockets start with it', async () => {
    expect(ZegoClient.setCloudProxyConfig([P1, P2], 'tok', true)).toBe(true);
    const r = rig({ dead: ['p1.example.com'] });
    r.login();
    await r.platform.advance(100);
    expect(r.urls()).toEqual([
      'wss://p1.example.com:443/ws?zg_proxy_token=tok',
      'wss://p2.example.com:8443/ws?zg_proxy_token=tok',
    ]);
    expect(r.ok).toHaveBeenCalledTimes(1);
    expect(r.err).not.toHaveBeenCalled();
    // A second login (a new room socket) goes straight to the proxy that worked.
    r.zg.login('room2', 1, 'login-token', r.ok, r.err);
    await r.platform.advance(100);
    expect(r.urls()[2]).toBe('wss://p2.example.com:8443/ws?zg_proxy_token=tok');
    expect(r.ok).toHaveBeenCalledTimes(2);
    // So does another client of the same setCloudProxyConfig.
    const other = rig({ dead: ['p1.example.com'] });
    other.login();
    await other.platform.advance(0);
    expect(other.urls()).toEqual(['wss://p2.example.com:8443/ws?zg_proxy_token=tok']);
  });

  test(`a proxy that never answers is left after ${PROXY_CONNECT_MS} ms, not before`, async () => {
    expect(ZegoClient.setCloudProxyConfig([P1, P2], 'tok', true)).toBe(true);
    const r = rig({ silent: ['p1.example.com'] });
    r.login();
    await r.platform.advance(PROXY_CONNECT_MS - 1);
    expect(r.urls()).toHaveLength(1);
    await r.platform.advance(1);
    expect(r.urls()).toHaveLength(2);
    expect(r.platform.sockets[0]!.closedWith?.by).toBe('client');
    await r.platform.advance(10);
    expect(r.ok).toHaveBeenCalledTimes(1);
  });

  test('every proxy down: the login fails the way a dead server does', async () => {
    expect(ZegoClient.setCloudProxyConfig([P1, P2], 'tok', true)).toBe(true);
    const r = rig({ dead: ['p1.example.com', 'p2.example.com:8443'] });
    r.login();
    await r.platform.advance(1000);
    expect(r.urls()).toHaveLength(2);
    expect(r.ok).not.toHaveBeenCalled();
    expect(r.err).toHaveBeenCalledWith({ code: 'ZegoClient.Error.Network', msg: 'connect failed' });
  });

  test('a refused proxy token reaches the login error callback with its server code', async () => {
    expect(ZegoClient.setCloudProxyConfig([P1], 'expired', true)).toBe(true);
    const r = rig();
    r.server.handlers.login = () => ({ err_code: 1000000022, err_message: 'proxy token expired' });
    r.login();
    await r.platform.advance(10);
    expect(r.err).toHaveBeenCalledWith({
      code: 'ZegoClient.Error.Server',
      msg: 'proxy token expired code:1000000022',
    });
  });
});

describe('ICE through the proxy', () => {
  test('proxyUrl keeps the path and query; relayVia keeps only TURN over TLS on the proxy', () => {
    expect(proxyUrl('ws://h:8080/media?x=1', '[2001:db8::7]:443', 'a b')).toBe(
      'wss://[2001:db8::7]:443/media?x=1&zg_proxy_token=a%20b',
    );
    expect(proxyUrl('wss://h', 'p', 't')).toBe('wss://p/?zg_proxy_token=t');
    // Our server gives a proxied session one ICE server (turn_urls with the credentials): it is used.
    const c = relayVia(
      {
        iceServers: [
          {
            urls: ['turn:h:3478?transport=udp', 'turns:h:5349?transport=tcp'],
            username: 'u',
            credential: 'c',
          },
        ],
        bundlePolicy: 'max-bundle',
      },
      'p1.example.com:443',
    );
    expect(c).toEqual({
      iceServers: [{ urls: 'turns:p1.example.com:443?transport=tcp', username: 'u', credential: 'c' }],
      bundlePolicy: 'max-bundle',
      iceTransportPolicy: 'relay',
    });
    // No TURN from the server: nothing to relay through (the connection fails as relay-only does).
    expect(relayVia({ iceServers: [] }, 'p').iceServers).toEqual([]);
    expect(relayVia({}, 'p').iceServers).toEqual([]);
  });

  test('a peer connection of a proxied client is relay-only through the proxy that carries its socket', async () => {
    expect(ZegoClient.setCloudProxyConfig([P1, P2], 'tok', true)).toBe(true);
    const r = rig({ dead: ['p1.example.com'], media: true });
    const media = r.media!;
    r.login();
    await r.platform.advance(100);
    const platform = (r.zg as unknown as { platform: { media: typeof media } }).platform;
    platform.media.createPeerConnection({
      iceServers: [{ urls: ['turn:rtc:3478?transport=udp'], username: 'u', credential: 'c' }],
    });
    expect(media.pcs.at(-1)!.config).toEqual({
      iceServers: [{ urls: 'turns:p2.example.com:8443?transport=tcp', username: 'u', credential: 'c' }],
      iceTransportPolicy: 'relay',
    });
  });
});
