/**
 * Page-side audio tools for the media suites: tone files made in the page (WAV bytes, a blob: URL for
 * preloadEffect or an <audio>), and a spectrum probe that listens to what a <video> plays (a Web Audio
 * analyser on its srcObject) and reports the level, in dB, at chosen frequencies: what a viewer hears,
 * tone by tone.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import type { Page } from 'playwright-core';

export async function installAudioTools(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    /** A mono 16-bit WAV of a sine. */
    w.__wav = (hz: number, seconds: number, amp = 0.5, rate = 48_000): ArrayBuffer => {
      const n = Math.round(seconds * rate);
      const buf = new ArrayBuffer(44 + n * 2);
      const v = new DataView(buf);
      const str = (o: number, s: string) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
      str(0, 'RIFF');
      v.setUint32(4, 36 + n * 2, true);
      str(8, 'WAVE');
      str(12, 'fmt ');
      v.setUint32(16, 16, true);
      v.setUint16(20, 1, true);
      v.setUint16(22, 1, true);
      v.setUint32(24, rate, true);
      v.setUint32(28, rate * 2, true);
      v.setUint16(32, 2, true);
      v.setUint16(34, 16, true);
      str(36, 'data');
      v.setUint32(40, n * 2, true);
      for (let i = 0; i < n; i++)
        v.setInt16(44 + i * 2, Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)), true);
      return buf;
    };
    w.__wavUrl = (hz: number, seconds: number, amp = 0.5) =>
      URL.createObjectURL(new Blob([w.__wav(hz, seconds, amp)], { type: 'audio/wav' }));
    /**
     * The median over `ms` (a read every 100 ms) of the level in dB at each frequency (the highest bin
     * within +-3 bins), heard from the element's stream.
     */
    w.__probe = async (elementId: string, freqs: number[], ms: number): Promise<number[]> => {
      const el = document.getElementById(elementId) as HTMLMediaElement;
      w.__probes = w.__probes || {};
      let p = w.__probes[elementId];
      if (!p || p.stream !== el.srcObject) {
        const ac: AudioContext = (w.__ac = w.__ac || new AudioContext());
        const an = ac.createAnalyser();
        an.fftSize = 8192;
        an.smoothingTimeConstant = 0;
        ac.createMediaStreamSource(el.srcObject as MediaStream).connect(an);
        p = w.__probes[elementId] = { stream: el.srcObject, an, ac };
      }
      await p.ac.resume();
      const bins = new Float32Array(p.an.frequencyBinCount);
      const hzPerBin = p.ac.sampleRate / p.an.fftSize;
      const reads: number[][] = freqs.map(() => []);
      const end = performance.now() + ms;
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        p.an.getFloatFrequencyData(bins);
        freqs.forEach((f, i) => {
          const c = Math.round(f / hzPerBin);
          let m = -200;
          for (let k = c - 3; k <= c + 3; k++) if (bins[k]! > m) m = bins[k]!;
          reads[i]!.push(m);
        });
      }
      return reads.map((r) => r.sort((a, b) => a - b)[r.length >> 1]!);
    };
  });
}

/** The levels (dB) at `freqs` heard from the element `elementId` over `ms`. */
export async function spectrum(page: Page, elementId: string, freqs: number[], ms = 1200): Promise<number[]> {
  return page.evaluate(({ elementId, freqs, ms }) => (window as any).__probe(elementId, freqs, ms), {
    elementId,
    freqs,
    ms,
  });
}
