/** setQualityMonitorCycle and the getStats-based quality reports of publishers and players, on fakes. */
import { mediaHarness, playing, publishing } from '../../fakes/mediaHarness';

const outbound = (video: Record<string, number>, audioBytes: number) => [
  { id: 'out-v', type: 'outbound-rtp', kind: 'video', ...video },
  { id: 'out-a', type: 'outbound-rtp', kind: 'audio', bytesSent: audioBytes },
  { id: 'cp', type: 'candidate-pair', nominated: true, currentRoundTripTime: 0.05 },
  // Not a publisher's: ignored.
  { id: 'in-v', type: 'inbound-rtp', kind: 'video', bytesReceived: 999_999, framesDecoded: 999 },
];

test('setQualityMonitorCycle: at least 1000 ms, a number', async () => {
  const h = await mediaHarness();
  expect(h.zg.setQualityMonitorCycle(999)).toBe(false);
  expect(h.zg.setQualityMonitorCycle(1000)).toBe(true);
  expect(h.zg.setQualityMonitorCycle('2000' as unknown as number)).toBe(false);
  expect(h.zg.setQualityMonitorCycle(NaN)).toBe(false);
});

test('publisher: the first sample only primes; the next gives kbps from byte deltas, fps from frame deltas, the frame size', async () => {
  const h = await mediaHarness();
  expect(h.zg.setQualityMonitorCycle(1000)).toBe(true);
  const { pc } = await publishing(h);
  pc.stats = outbound(
    { bytesSent: 10_000, framesEncoded: 100, framesSent: 100, frameWidth: 640, frameHeight: 480 },
    2000,
  );
  await h.platform.advance(999);
  expect(h.mcalls.onPublishQualityUpdate).toEqual([]);
  await h.platform.advance(1);
  expect(h.mcalls.onPublishQualityUpdate).toEqual([]);
  pc.stats = outbound(
    {
      bytesSent: 135_000,
      framesEncoded: 115,
      framesSent: 114,
      frameWidth: 640,
      frameHeight: 480,
      nackCount: 3,
      pliCount: 1,
    },
    6000,
  );
  await h.platform.advance(1000);
  expect(h.mcalls.onPublishQualityUpdate).toEqual([
    [
      's1',
      {
        videoBitrate: 1000,
        audioBitrate: 32,
        videoFPS: 15,
        videoTransferFPS: 14,
        frameWidth: 640,
        frameHeight: 480,
        nackCount: 3,
        pliCount: 1,
        packetsLost: 0,
        rtt: 50,
      },
    ],
  ]);
});

test('the default cycle is 3000 ms; rates are per second over the cycle; a new cycle applies at once', async () => {
  const h = await mediaHarness();
  const { pc } = await publishing(h);
  pc.stats = outbound({ bytesSent: 0, framesEncoded: 0, frameWidth: 1280, frameHeight: 720 }, 0);
  await h.platform.advance(3000);
  pc.stats = outbound({ bytesSent: 300_000, framesEncoded: 45, frameWidth: 1280, frameHeight: 720 }, 12_000);
  await h.platform.advance(2999);
  expect(h.mcalls.onPublishQualityUpdate).toEqual([]);
  await h.platform.advance(1);
  expect(h.mcalls.onPublishQualityUpdate).toHaveLength(1);
  expect(h.mcalls.onPublishQualityUpdate[0]![1]).toMatchObject({
    videoBitrate: 800,
    audioBitrate: 32,
    videoFPS: 15,
    videoTransferFPS: 15,
    frameWidth: 1280,
    frameHeight: 720,
  });
  expect(h.zg.setQualityMonitorCycle(1000)).toBe(true);
  await h.platform.advance(1000);
  expect(h.mcalls.onPublishQualityUpdate).toHaveLength(2);
  // Counters unchanged over that second: zero rates.
  expect(h.mcalls.onPublishQualityUpdate[1]![1]).toMatchObject({
    videoBitrate: 0,
    audioBitrate: 0,
    videoFPS: 0,
  });
  // No reports once stopped.
  h.zg.stopPublishingStream('s1');
  await h.platform.advance(10_000);
  expect(h.mcalls.onPublishQualityUpdate).toHaveLength(2);
});

test('player: inbound-rtp bytesReceived / framesDecoded / packetsLost', async () => {
  const h = await mediaHarness();
  h.zg.setQualityMonitorCycle(2000);
  const { pc } = await playing(h);
  const inbound = (vb: number, frames: number, ab: number, lost: number) => [
    {
      id: 'in-v',
      type: 'inbound-rtp',
      kind: 'video',
      bytesReceived: vb,
      framesDecoded: frames,
      framesReceived: frames + 2,
      frameWidth: 320,
      frameHeight: 240,
      packetsLost: lost,
    },
    { id: 'in-a', type: 'inbound-rtp', kind: 'audio', bytesReceived: ab },
    { id: 'out-v', type: 'outbound-rtp', kind: 'video', bytesSent: 123_456 },
  ];
  pc.stats = inbound(5000, 10, 1000, 0);
  await h.platform.advance(2000);
  expect(h.mcalls.onPlayQualityUpdate).toEqual([]);
  pc.stats = inbound(255_000, 50, 17_000, 4);
  await h.platform.advance(2000);
  expect(h.mcalls.onPlayQualityUpdate).toEqual([
    [
      's2',
      {
        videoBitrate: 1000,
        audioBitrate: 64,
        videoFPS: 20,
        videoTransferFPS: 20,
        frameWidth: 320,
        frameHeight: 240,
        nackCount: 0,
        pliCount: 0,
        packetsLost: 4,
        rtt: 0,
      },
    ],
  ]);
  expect(h.mcalls.onPublishQualityUpdate).toEqual([]);
});

test('a getStats failure skips the sample', async () => {
  const h = await mediaHarness();
  h.zg.setQualityMonitorCycle(1000);
  const { pc } = await publishing(h);
  pc.stats = outbound({ bytesSent: 0, framesEncoded: 0 }, 0);
  await h.platform.advance(1000);
  pc.fail = { getStats: new Error('closed') };
  await h.platform.advance(1000);
  expect(h.mcalls.onPublishQualityUpdate).toEqual([]);
  pc.fail = {};
  pc.stats = outbound({ bytesSent: 250_000, framesEncoded: 30 }, 0);
  await h.platform.advance(1000);
  // Against the last good sample, 2 s before.
  expect(h.mcalls.onPublishQualityUpdate[0]![1]).toMatchObject({ videoBitrate: 1000, videoFPS: 15 });
});
