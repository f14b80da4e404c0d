/**
 * HTTP-FLV fan-out, the part of the embedded origin nginx's RTMP module lacks: our ffmpeg children POST a
 * live FLV stream to `/publish/<name>?key=<secret>`, players GET `/live/<name>.flv` (flv.js, ffplay). Each
 * stream keeps its metadata, the audio and video sequence headers and the tags since the last keyframe,
 * so a new player starts at once on a keyframe. When a publisher comes back (a mix restarted with a new
 * layout, a relay restarted), the players stay connected: timestamps continue from where they were.
 *
 * A player that does not read (more than MAX_QUEUED_BYTES waiting) is dropped, never buffered without end.
 * Runs in its own process (origin/flvMain.ts): media bytes never touch the signalling event loop.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** Tags kept for a new player at most (a GOP longer than this starts at its end). */
const MAX_GOP_TAGS = 2000;
/** A player asking for a stream not published yet waits this long, ms. */
const WAIT_FOR_PUBLISHER_MS = 30_000;

interface Tag {
  type: number;
  ts: number;
  data: Buffer;
}

class Stream {
  meta: Tag | null = null;
  audioHeader: Tag | null = null;
  videoHeader: Tag | null = null;
  gop: Tag[] = [];
  readonly players = new Set<ServerResponse>();
  publisher: IncomingMessage | null = null;
  /** Added to a publisher's timestamps so they continue across publishers. */
  offset = 0;
  lastTs = 0;
  firstOfSession: number | null = null;
  bytesIn = 0;
}

function tagBytes(t: Tag, ts: number): Buffer {
  const h = Buffer.alloc(11);
  h[0] = t.type;
  h.writeUIntBE(t.data.length, 1, 3);
  h.writeUIntBE(ts & 0xffffff, 4, 3);
  h[7] = (ts >>> 24) & 0xff;
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(11 + t.data.length);
  return Buffer.concat([h, t.data, tail]);
}

const isVideoKey = (t: Tag) => t.type === 9 && t.data.length > 0 && t.data[0]! >> 4 === 1;
const isAvcHeader = (t: Tag) =>
  t.type === 9 && t.data.length > 1 && (t.data[0]! & 0x0f) === 7 && t.data[1] === 0;
const isAacHeader = (t: Tag) =>
  t.type === 8 && t.data.length > 1 && t.data[0]! >> 4 === 10 && t.data[1] === 0;

export class FlvHub {
  private readonly streams = new Map<string, Stream>();

  constructor(private readonly publishKey: string) {}

  private stream(name: string): Stream {
    let s = this.streams.get(name);
    if (!s) this.streams.set(name, (s = new Stream()));
    return s;
  }

  /** Stream names and players (the origin's health details). */
  stats(): Record<string, { players: number; live: boolean; bytesIn: number }> {
    const out: Record<string, { players: number; live: boolean; bytesIn: number }> = {};
    for (const [name, s] of this.streams)
      out[name] = { players: s.players.size, live: !!s.publisher, bytesIn: s.bytesIn };
    return out;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const pub = /^\/publish\/([\w.-]{1,200})$/.exec(url.pathname);
    const play = /^\/live\/([\w.-]{1,200})\.flv$/.exec(url.pathname);
    if (req.method === 'POST' && pub && url.searchParams.get('key') === this.publishKey)
      return this.publish(pub[1]!, req, res);
    if (req.method === 'GET' && play) return this.play(play[1]!, res);
    if (req.method === 'GET' && url.pathname === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(this.stats()));
    }
    res.writeHead(404).end();
  }

  private publish(name: string, req: IncomingMessage, res: ServerResponse): void {
    const s = this.stream(name);
    s.publisher?.destroy();
    s.publisher = req;
    s.firstOfSession = null;
    let buf: Buffer = Buffer.alloc(0);
    let headerDone = false;
    req.on('data', (chunk: Buffer) => {
      s.bytesIn += chunk.length;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (!headerDone) {
        if (buf.length < 13) return;
        headerDone = true;
        buf = buf.subarray(13);
      }
      while (buf.length >= 11) {
        const size = buf.readUIntBE(1, 3);
        if (buf.length < 11 + size + 4) break;
        const ts = buf.readUIntBE(4, 3) | (buf[7]! << 24);
        this.onTag(s, { type: buf[0]!, ts, data: Buffer.from(buf.subarray(11, 11 + size)) });
        buf = buf.subarray(11 + size + 4);
      }
    });
    const done = () => {
      if (s.publisher !== req) return;
      s.publisher = null;
      // The next publisher continues the timeline a frame after this one stopped.
      s.offset = s.lastTs + 40;
      if (!res.headersSent) res.writeHead(200).end();
    };
    req.on('end', done);
    req.on('close', done);
  }

  private onTag(s: Stream, raw: Tag): void {
    if (raw.type !== 8 && raw.type !== 9 && raw.type !== 18) return;
    if (raw.type === 18) {
      s.meta = raw;
      return;
    }
    s.firstOfSession ??= raw.ts;
    const t: Tag = { ...raw, ts: Math.max(0, raw.ts - s.firstOfSession + s.offset) };
    s.lastTs = Math.max(s.lastTs, t.ts);
    if (isAvcHeader(t)) s.videoHeader = t;
    else if (isAacHeader(t)) s.audioHeader = t;
    else if (isVideoKey(t)) s.gop = [t];
    else if (s.gop.length && s.gop.length < MAX_GOP_TAGS) s.gop.push(t);
    // A header mid-stream (a new publisher) goes to the players as it comes, like any tag.
    const bytes = tagBytes(t, t.ts);
    for (const p of s.players) this.send(s, p, bytes);
  }

  private send(s: Stream, p: ServerResponse, bytes: Buffer): void {
    if (p.writableLength > MAX_QUEUED_BYTES) {
      s.players.delete(p);
      p.destroy();
      return;
    }
    p.write(bytes);
  }

  private play(name: string, res: ServerResponse): void {
    const s = this.stream(name);
    res.writeHead(200, {
      'content-type': 'video/x-flv',
      'access-control-allow-origin': '*',
      'cache-control': 'no-cache',
    });
    res.write(FLV_HEADER);
    const start = () => {
      for (const t of [s.meta, s.videoHeader, s.audioHeader, ...s.gop])
        if (t) res.write(tagBytes(t, t === s.meta ? 0 : t.ts));
      s.players.add(res);
    };
    if (s.videoHeader || s.audioHeader) start();
    else {
      // Not published yet: wait for the first sequence header, then start (bounded).
      const waitStart = Date.now();
      const poll = setInterval(() => {
        if (s.videoHeader || s.audioHeader) {
          clearInterval(poll);
          start();
        } else if (Date.now() - waitStart > WAIT_FOR_PUBLISHER_MS) {
          clearInterval(poll);
          res.end();
        }
      }, 100);
      res.on('close', () => clearInterval(poll));
    }
    res.on('close', () => {
      s.players.delete(res);
      if (!s.players.size && !s.publisher) this.streams.delete(name);
    });
  }
}
