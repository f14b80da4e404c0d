/**
 * Reading CDN outputs (RTMP, HLS, HTTP-FLV) the way a player would, with ffmpeg/ffprobe: stream facts
 * (codec, size, frame rate), a decoded frame's pixels, and the level of tones in the decoded audio
 * (Goertzel). Every run is bounded (killed after its timeout) and a missing tool fails with its name.
 */
import { spawn } from 'node:child_process';

function run(bin: string, args: string[], timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('error', (e) => {
      clearTimeout(t);
      reject(new Error(`${bin} not runnable (Debian package ffmpeg): ${e.message}`));
    });
    p.once('exit', (code, sig) => {
      clearTimeout(t);
      const buf = Buffer.concat(out);
      if (code === 0 || buf.length) resolve(buf);
      else reject(new Error(`${bin} ${args.join(' ')} failed (${sig ?? code}): ${err}`));
    });
  });
}

export interface StreamFacts {
  video?: { codec: string; width: number; height: number; fps: number };
  audio?: { codec: string };
}

export async function probe(url: string, timeoutMs = 20_000): Promise<StreamFacts> {
  const out = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-rw_timeout',
      '10000000',
      '-show_entries',
      'stream=codec_type,codec_name,width,height,r_frame_rate,avg_frame_rate',
      '-of',
      'json',
      url,
    ],
    timeoutMs,
  );
  const j = JSON.parse(out.toString() || '{}') as {
    streams?: {
      codec_type: string;
      codec_name: string;
      width?: number;
      height?: number;
      r_frame_rate?: string;
      avg_frame_rate?: string;
    }[];
  };
  const facts: StreamFacts = {};
  const rate = (s?: string) => {
    const [a, b] = (s ?? '0/1').split('/').map(Number);
    return b ? a! / b : 0;
  };
  for (const s of j.streams ?? []) {
    if (s.codec_type === 'video')
      facts.video = {
        codec: s.codec_name,
        width: s.width ?? 0,
        height: s.height ?? 0,
        fps: rate(s.avg_frame_rate) || rate(s.r_frame_rate),
      };
    if (s.codec_type === 'audio') facts.audio = { codec: s.codec_name };
  }
  return facts;
}

/** One decoded frame as RGB bytes (`width` x `height`), taken `skipS` seconds in. */
export async function grabFrame(url: string, width: number, height: number, skipS = 1): Promise<Buffer> {
  const buf = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-rw_timeout',
      '10000000',
      '-i',
      url,
      '-ss',
      String(skipS),
      '-frames:v',
      '1',
      '-s',
      `${width}x${height}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    25_000,
  );
  if (buf.length < width * height * 3) throw new Error(`no frame from ${url} (${buf.length} bytes)`);
  return buf;
}

export function pixel(frame: Buffer, width: number, x: number, y: number): [number, number, number] {
  const i = (y * width + x) * 3;
  return [frame[i]!, frame[i + 1]!, frame[i + 2]!];
}

/** True when `rgb` is within `tol` of `want` on every channel. */
export function near(rgb: number[], want: number[], tol = 48): boolean {
  return rgb.every((v, i) => Math.abs(v - want[i]!) <= tol);
}

/** Decoded audio (mono 16 kHz) for `seconds`: the level of each frequency in dB relative to full scale. */
export async function toneLevels(url: string, freqs: number[], seconds = 3): Promise<number[]> {
  const rate = 16_000;
  const pcm = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-rw_timeout',
      '10000000',
      '-i',
      url,
      '-t',
      String(seconds + 1),
      '-vn',
      '-ac',
      '1',
      '-ar',
      String(rate),
      '-f',
      's16le',
      'pipe:1',
    ],
    30_000,
  );
  const n = Math.floor(pcm.length / 2);
  const skip = Math.min(rate, Math.floor(n / 4));
  const xs = new Float64Array(n - skip);
  for (let i = skip; i < n; i++) xs[i - skip] = pcm.readInt16LE(i * 2) / 32768;
  return freqs.map((f) => {
    // Goertzel over the whole window.
    const k = (2 * Math.PI * f) / rate;
    const c = 2 * Math.cos(k);
    let s1 = 0;
    let s2 = 0;
    for (const x of xs) {
      const s0 = x + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - c * s1 * s2;
    const amp = (2 * Math.sqrt(Math.max(power, 1e-20))) / xs.length;
    return 20 * Math.log10(amp);
  });
}
