/**
 * The built files (dist/ZegoClient.js, jZego-rtc.js, their maps, the ESM build) and the demo page, served
 * from memory: a class of a thousand pages loading the script at 9:00 costs no disk read, no compression
 * and no allocation per request, so the event loop (and every room's heartbeat) does not wait on them.
 *
 * - Each file is read once (asynchronously) and compressed once, gzip and brotli, on libuv's thread pool
 *   (zlib's async API), never on the loop; until its compressed forms are ready it is served as is.
 *   Compressions run one at a time (one thread of the pool: file reads and DNS keep the others), and
 *   once per content (jZego-rtc.js is ZegoClient.js; every server of a process shares them).
 * - A request never waits on the disk once a file is loaded: it is served from memory while the check
 *   for a newer file runs behind it.
 * - The encoding is negotiated by Accept-Encoding (br, then gzip, then identity; q=0 refuses one) and
 *   every answer says `Vary: Accept-Encoding`.
 * - Each form has its own strong ETag (a hash of the file, plus the encoding); `Cache-Control: no-cache`
 *   (the names carry no version) makes a reload a conditional request, answered 304 without a body.
 * - A file changed on disk (a rebuild) is noticed within a second (one stat per file per second at most)
 *   and read again.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export type Encoding = 'br' | 'gzip' | 'identity';

interface Form {
  body: Buffer;
  etag: string;
}

interface Entry {
  /** undefined: the file does not exist (or cannot be read). */
  forms?: Partial<Record<Encoding, Form>> & { identity: Form };
  mtimeMs: number;
  size: number;
  checkedAt: number;
  /** Its first read is done (whatever it found). */
  loaded: boolean;
  loading: Promise<void> | null;
}

/** How often a cached file is checked against the disk, ms. */
const RECHECK_MS = 1000;
/** Smaller than this is not worth compressing (headers cost more than the bytes saved). */
const MIN_COMPRESS_BYTES = 1024;

export interface StaticAnswer {
  status: 200 | 304 | 404;
  headers: Record<string, string | number>;
  body: Buffer | null;
}

/** The preferred encoding the client accepts among those we have (RFC 9110 §12.5.3, q-values). */
export function negotiate(acceptEncoding: string | undefined, have: readonly Encoding[]): Encoding {
  if (!acceptEncoding) return 'identity';
  const q = new Map<string, number>();
  for (const part of acceptEncoding.slice(0, 512).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const v = qp === undefined ? 1 : Number(qp.slice(2));
    q.set(name, Number.isFinite(v) ? v : 0);
  }
  const star = q.get('*');
  for (const enc of ['br', 'gzip'] as const) {
    if (!have.includes(enc)) continue;
    const v = q.get(enc) ?? star ?? 0;
    if (v > 0) return enc;
  }
  return 'identity';
}

/** Does If-None-Match name this representation (weak comparison, RFC 9110 §13.1.2)? */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch
    .slice(0, 4096)
    .split(',')
    .some((t) => t.trim().replace(/^W\//, '') === etag);
}

export class StaticFiles {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** At most this many distinct files are kept (the whitelisted routes name a handful). */
    private readonly maxFiles = 64,
  ) {}

  /** Starts reading and compressing a file now (the server's own files, at start). */
  preload(path: string): Promise<void> {
    return this.current(path).then(() => undefined);
  }

  /**
   * The answer for a GET/HEAD of `path` (an absolute path the routes have whitelisted): 404 when it does
   * not exist, 304 when the client has this representation, else 200 with the negotiated form.
   */
  async answer(
    path: string,
    acceptEncoding: string | undefined,
    ifNoneMatch: string | undefined,
  ): Promise<StaticAnswer> {
    const e = await this.current(path);
    if (!e.forms) return { status: 404, headers: {}, body: null };
    const have = Object.keys(e.forms) as Encoding[];
    const enc = negotiate(acceptEncoding, have);
    const form = e.forms[enc] ?? e.forms.identity;
    const headers: Record<string, string | number> = {
      etag: form.etag,
      'cache-control': 'no-cache',
      vary: 'Accept-Encoding',
    };
    if (enc !== 'identity') headers['content-encoding'] = enc;
    // Any form of the same content: the client has this file (it may have fetched it with another encoding).
    const known = Object.values(e.forms).some((f) => f && matches(ifNoneMatch, f.etag));
    if (known) return { status: 304, headers, body: null };
    headers['content-length'] = form.body.length;
    return { status: 200, headers, body: form.body };
  }

  /**
   * The entry for `path`. A file never read is waited for; a loaded one is answered at once and checked
   * against the disk behind the answer (at most once per RECHECK_MS), so a rebuild shows up a moment later.
   */
  private async current(path: string): Promise<Entry> {
    let e = this.entries.get(path);
    if (!e) {
      if (this.entries.size >= this.maxFiles) this.entries.delete(this.entries.keys().next().value!);
      e = { mtimeMs: -1, size: -1, checkedAt: 0, loaded: false, loading: null };
      this.entries.set(path, e);
    }
    const entry = e;
    if (!entry.loading && Date.now() - entry.checkedAt >= RECHECK_MS)
      entry.loading = this.refresh(path, entry).finally(() => {
        entry.loading = null;
        entry.loaded = true;
      });
    if (!entry.loaded && entry.loading) await entry.loading;
    return entry;
  }

  private async refresh(path: string, e: Entry): Promise<void> {
    e.checkedAt = Date.now();
    let body: Buffer;
    try {
      const s = await stat(path);
      if (!s.isFile()) throw new Error('not a file');
      if (e.forms && s.mtimeMs === e.mtimeMs && s.size === e.size) return;
      body = await readFile(path);
      e.mtimeMs = s.mtimeMs;
      e.size = s.size;
    } catch {
      e.forms = undefined;
      return;
    }
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27);
    const forms: NonNullable<Entry['forms']> = { identity: { body, etag: `"${hash}"` } };
    e.forms = forms;
    if (body.length < MIN_COMPRESS_BYTES) return;
    // Each compressed form joins the entry when it is ready (unless the file changed meanwhile).
    void compressed(hash, body).then(({ gz, br }) => {
      if (gz && gz.length < body.length) forms.gzip = { body: gz, etag: `"${hash}-gz"` };
      if (br && br.length < body.length) forms.br = { body: br, etag: `"${hash}-br"` };
    });
  }
}

interface Compressed {
  gz: Buffer | null;
  br: Buffer | null;
}

/** Compressed forms by content hash, shared by every StaticFiles of the process (a handful of files). */
const byHash = new Map<string, Promise<Compressed>>();
const MAX_HASHES = 32;
/** Brotli's best quality (11) for files up to this size, 9 beyond. */
const BEST_QUALITY_MAX_BYTES = 256 * 1024;
/** The compressions, one after the other. */
let queue: Promise<unknown> = Promise.resolve();

function compressed(hash: string, body: Buffer): Promise<Compressed> {
  let p = byHash.get(hash);
  if (p) return p;
  p = queue.then(async () => ({
    gz: await gzipAsync(body, { level: 9 }).catch(() => null),
    br: await brotliAsync(body, {
      params: {
        // The best quality for what pages load (the scripts); source maps, four times larger and read
        // only by developer tools, at 9: quality 11 on them costs seconds of a thread and ~13 MiB the
        // allocator keeps afterwards, for 8 % fewer bytes.
        [zlib.BROTLI_PARAM_QUALITY]: body.length <= BEST_QUALITY_MAX_BYTES ? 11 : 9,
        // The window need not exceed the file (a smaller window is less memory).
        [zlib.BROTLI_PARAM_LGWIN]: Math.min(22, Math.max(16, Math.ceil(Math.log2(body.length)))),
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
      },
    }).catch(() => null),
  }));
  queue = p;
  byHash.set(hash, p);
  if (byHash.size > MAX_HASHES) byHash.delete(byHash.keys().next().value!);
  return p;
}
