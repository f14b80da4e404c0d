/**
 * Which addresses RTP goes to when Janus runs on other hosts: the rtp_forward target of mix and relay
 * inputs (`mix.forwardHost`, default 127.0.0.1), and the address of each Janus's remote publishers
 * (127.0.0.1 spawned; an external one's `rtpHost`, else its connected URL's host). The forwards are made by
 * real RelayTask and MixTask objects on fake legs, with `true` standing in for ffmpeg (nothing listens:
 * only the addresses are checked).
 */
import pino from 'pino';
import { resolveConfig } from '../../../src/server/config';
import { JanusBackend, rtpHostOf } from '../../../src/server/media/JanusBackend';
import { MixTask } from '../../../src/server/mix/MixTask';
import { RelayTask } from '../../../src/server/mix/RelayTask';
import { UdpPorts } from '../../../src/server/mix/UdpPorts';
import { FakeBackend, type FakeLeg } from '../../fakes/FakeBackend';

const log = pino({ level: 'silent' });

async function publisher(): Promise<FakeLeg> {
  const leg = (await new FakeBackend().openLeg()) as FakeLeg;
  await leg.publish('1:r', 's', 'offer');
  return leg;
}

test('an external Janus is sent RTP at its rtpHost, else at the host of its URL; a spawned one at 127.0.0.1', () => {
  expect(rtpHostOf('ws://10.0.0.5:8188')).toBe('10.0.0.5');
  expect(rtpHostOf('wss://janus-b.internal/janus')).toBe('janus-b.internal');
  expect(rtpHostOf('ws://localhost:8188')).toBe('127.0.0.1');
  expect(rtpHostOf('ws://[fd00::5]:8188')).toBe('fd00::5');
  const j = resolveConfig({
    janus: { pool: ['ws://10.0.1.5:8188', { urls: 'ws://10.0.1.6:8188', rtpHost: '10.0.0.6' }] },
    turn: { enabled: false },
  }).janus;
  const members = j.pool.map((urls, i) => new JanusBackend({ ...j, urls, rtpHost: j.rtpHosts[i]! }, log));
  expect(members.map((m) => m.rtpHost)).toEqual(['10.0.1.5', '10.0.0.6']);
  expect(new JanusBackend(resolveConfig({}).janus, log).rtpHost).toBe('127.0.0.1');
});

test.each([
  ['', '127.0.0.1'],
  ['10.0.0.9', '10.0.0.9'],
])('mix.forwardHost %j: a CDN relay and a mix input are forwarded to %s', async (forwardHost, expected) => {
  const cfg = resolveConfig({ mix: { forwardHost } });
  const host = cfg.mix.forwardHost || '127.0.0.1';
  const udp = new UdpPorts(47000, 47099);
  const leg = await publisher();
  const relay = new RelayTask(
    1,
    's',
    'origin:x',
    [],
    udp,
    { ffmpeg: 'true', preset: 'ultrafast', forwardHost: host },
    log,
  );
  await relay.up(leg);
  expect(leg.forwards.map((f) => f.host)).toEqual([expected]);
  await relay.stop();

  const input = await publisher();
  const rect = { layer: 0, left: 0, top: 0, right: 320, bottom: 240 };
  const mix = new MixTask(
    1,
    'r',
    'owner',
    'm',
    {
      width: 320,
      height: 240,
      fps: 15,
      videoBitrate: 300_000,
      audioBitrate: 64_000,
      channels: 2,
      bgColor: '0x000000',
      videoEncode: 'h264',
      inputs: [{ streamId: 's', rect }],
    },
    [],
    null,
    udp,
    {
      ffmpeg: 'true',
      preset: 'ultrafast',
      idleStopMs: 60_000,
      forwardHost: host,
      liveLeg: () => input,
      onIdle: () => {},
    },
    log,
  );
  await mix.start();
  expect(input.forwards.map((f) => f.host)).toEqual([expected]);
  await mix.stop();
  expect(udp.inUse).toBe(0);
});
