/** @jest-environment node */
/**
 * The bridge's werift settings (src/server/bridge/peerConfig.ts): no public STUN server is contacted
 * (werift's default, and its ICE agent's fallback when no STUN server is configured), host candidates
 * only, on the configured address and port range; the answer makes the bridge the DTLS server.
 */
import { RTCPeerConnection } from 'werift';
import type { BridgeWorkerConfig } from '../../../src/server/bridge/ipc';
import {
  dtlsServerAnswer,
  noPublicStun,
  peerConfig,
  weriftCodec,
} from '../../../src/server/bridge/peerConfig';

const cfg: BridgeWorkerConfig = {
  portRange: [47100, 47199],
  ips: ['127.0.0.1'],
  iceServers: [],
  maxViewers: 1,
  maxFeeds: 1,
};

test('no STUN server, host candidates on the configured address and range, answered as DTLS server', async () => {
  const page = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  page.addTransceiver('audio', { direction: 'recvonly' });
  const offer = await page.createOffer();
  await page.setLocalDescription(offer);
  const pt = Number(/a=rtpmap:(\d+) opus\/48000\/2/i.exec(page.localDescription!.sdp)![1]);
  const opus = weriftCodec('audio', {
    pt,
    name: 'OPUS',
    clockRate: 48000,
    channels: 2,
    fmtp: '',
    rtcpFb: [],
  });
  const bridge = new RTCPeerConnection(peerConfig(cfg, { audio: [opus] }));
  try {
    await bridge.setRemoteDescription({ type: 'offer', sdp: page.localDescription!.sdp });
    for (const t of bridge.getTransceivers()) t.setDirection('sendonly');
    const agents = bridge.iceTransports.map((t) => t.connection as unknown as { stunServer?: unknown });
    // Before: werift's fallback (stun.l.google.com:19302) is there.
    expect(agents.some((a) => a.stunServer !== undefined)).toBe(true);
    noPublicStun(bridge, cfg);
    expect(agents.every((a) => a.stunServer === undefined)).toBe(true);
    const t0 = Date.now();
    const answer = await bridge.createAnswer();
    await bridge.setLocalDescription({ type: 'answer', sdp: dtlsServerAnswer(answer.sdp) });
    // Gathering did not wait for any STUN answer (werift waits up to 5 s for one).
    expect(Date.now() - t0).toBeLessThan(1000);
    const sdp = bridge.localDescription!.sdp;
    const cands = sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    expect(cands.length).toBeGreaterThan(0);
    for (const c of cands) {
      expect(c).toMatch(/ typ host/);
      const [, ip, port] = / udp \d+ (\S+) (\d+) typ/.exec(c) ?? [];
      expect(ip).toBe('127.0.0.1');
      expect(Number(port)).toBeGreaterThanOrEqual(47100);
      expect(Number(port)).toBeLessThanOrEqual(47199);
    }
    expect(sdp).toMatch(/a=setup:passive/);
    expect(sdp).not.toMatch(/a=setup:active/);
  } finally {
    await bridge.close();
    await page.close();
  }
});

test('a configured STUN server is kept', async () => {
  const withStun = { ...cfg, iceServers: [{ urls: 'stun:127.0.0.1:3478' }] };
  const page = new RTCPeerConnection({ iceServers: [] });
  page.addTransceiver('audio', { direction: 'recvonly' });
  await page.setLocalDescription(await page.createOffer());
  const bridge = new RTCPeerConnection(peerConfig(withStun, {}));
  await bridge.setRemoteDescription({ type: 'offer', sdp: page.localDescription!.sdp });
  noPublicStun(bridge, withStun);
  expect((bridge.iceTransports[0]!.connection as unknown as { stunServer?: unknown }).stunServer).toEqual([
    '127.0.0.1',
    3478,
  ]);
  await bridge.close();
  await page.close();
});
