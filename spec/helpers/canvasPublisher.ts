/**
 * A page that publishes a canvas of one solid colour with one tone (an oscillator), through the shim's
 * externalMediaStream path: what the mixing suites compose and read back. `timecode: true` also draws the
 * page's clock (ms, low 24 bits) as a row of black/white blocks at the top, for glass-to-output latency.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import type { Page } from 'playwright-core';
import { waitForEvent } from './browser';

export async function publishCanvas(
  page: Page,
  streamId: string,
  o: {
    color: string;
    hz: number;
    width?: number;
    height?: number;
    codec?: 'H264' | 'VP8';
    timecode?: boolean;
    cdnUrl?: string;
  },
): Promise<void> {
  await page.evaluate(
    ({ streamId, o }) => {
      const w = window as any;
      const width = o.width ?? 320;
      const height = o.height ?? 240;
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d')!;
      const paint = () => {
        ctx.fillStyle = o.color;
        ctx.fillRect(0, 0, width, height);
        if (o.timecode) {
          const t = Date.now() & 0xffffff;
          const bw = width / 24;
          for (let b = 0; b < 24; b++) {
            ctx.fillStyle = (t >> (23 - b)) & 1 ? '#fff' : '#000';
            ctx.fillRect(b * bw, 0, bw, height / 4);
          }
        }
      };
      paint();
      setInterval(paint, o.timecode ? 10 : 40);
      const ac = new AudioContext();
      const osc = ac.createOscillator();
      osc.frequency.value = o.hz;
      const gain = ac.createGain();
      gain.gain.value = 0.4;
      const dst = ac.createMediaStreamDestination();
      osc.connect(gain).connect(dst);
      osc.start();
      const stream = new MediaStream([
        ...canvas.captureStream(25).getVideoTracks(),
        ...dst.stream.getAudioTracks(),
      ]);
      const v = document.createElement('video');
      v.id = `local-${streamId}`;
      v.muted = true;
      document.body.appendChild(v);
      w.zg.startPreview(
        v,
        { externalMediaStream: stream, width, height, frameRate: 25, bitrate: 600 },
        w.__record('previewOk'),
        w.__record('previewErr'),
      );
    },
    { streamId, o },
  );
  await waitForEvent(page, 'previewOk');
  const since = Date.now() - 1;
  await page.evaluate(
    ({ streamId, codec, cdnUrl }) =>
      (window as any).zg.startPublishingStream(streamId, document.getElementById(`local-${streamId}`), '', {
        videoDecodeType: codec,
        ...(cdnUrl ? { cdnUrl } : {}),
      }),
    { streamId, codec: o.codec ?? 'H264', cdnUrl: o.cdnUrl },
  );
  await waitForEvent(page, 'onPublishStateUpdate', (a) => a[0] === 0 && a[1] === streamId, 20_000, since);
}
