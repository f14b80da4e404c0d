/**
 * The target of a fuzz file: one server process plus a bystander, restarted when a frame killed the
 * server (so that fast-check can keep shrinking against a live server and each property reports on its
 * own), and the per-frame steps shared by the room and media properties.
 */
import fc from 'fast-check';
import type { MediaRequest } from '../../../src/protocol/media';
import type { RoomCmd } from '../../../src/protocol/room';
import { Bystander } from './bystander';
import {
  MEDIA_CLOSE_CODES,
  ROOM_CLOSE_CODES,
  checkMediaClose,
  checkMediaReply,
  checkRoomAnswer,
  mediaExpectations,
  type Sent,
} from './contract';
import { params, type Ctx, type Frame } from './hostile';
import { APPID, fuzzConfig, settle, startFuzzServer, type FuzzServer } from './server';
import { mediaFrames, roomFrames } from './shapes';
import {
  Sock,
  isMediaPush,
  isRoomPush,
  mediaLogin,
  roomLogin,
  type Outcome,
  type RoomSession,
} from './sockets';

export const FRAME_DEADLINE_MS = 2000;
export const FUZZ_ROOM = 'fuzz-room';

export class Target {
  srv!: FuzzServer;
  bystander!: Bystander;
  /** How the server died, each time it did. */
  readonly deaths: string[] = [];

  constructor(private readonly config: Record<string, unknown> = fuzzConfig()) {}

  async start(): Promise<void> {
    this.srv = await startFuzzServer(this.config);
    this.bystander = await Bystander.start(this.srv);
  }

  /** Restarts a dead server (and its bystander); the death is recorded. */
  async ensureAlive(): Promise<void> {
    if (this.srv.alive()) return;
    this.deaths.push(`server ${this.srv.exitInfo()}; its last output:\n${this.srv.output(25)}`);
    this.bystander.stop();
    await this.start();
  }

  /** A short "is the process dead?" with its output, for a frame's failure message. */
  async deathAfterFrame(ms = 400): Promise<string | null> {
    if (await settle(this.srv, ms)) return null;
    return `the server process ${this.srv.exitInfo()} (pid ${this.srv.pid}). Its last output:\n${this.srv.output(25)}`;
  }

  /** Process alive, /healthz answers, bystander undisturbed, no death since the last check. */
  async problems(): Promise<string[]> {
    const out: string[] = this.deaths.splice(0).map((d) => `the server died during the property: ${d}`);
    if (!this.srv.alive()) {
      out.push(`the server ${this.srv.exitInfo()}:\n${this.srv.output(25)}`);
      return out;
    }
    try {
      const h = await this.srv.health();
      if (h.status !== 'ok') out.push(`/healthz says ${JSON.stringify(h).slice(0, 300)}`);
    } catch (e) {
      out.push(`/healthz: ${(e as Error).message}`);
    }
    out.push(...(await this.bystander.check()));
    return out;
  }

  async stop(): Promise<void> {
    this.bystander?.stop();
    await this.srv?.stop();
  }
}

/** Runs a property, then the health checks; fails with both reports when either failed. */
export async function checked(t: Target, run: () => Promise<void>): Promise<void> {
  let failure: Error | null = null;
  const t0 = Date.now();
  try {
    await run();
  } catch (e) {
    failure = e as Error;
  }
  const t1 = Date.now();
  await t.ensureAlive().catch(() => {});
  const problems = await t.problems();
  if (process.env.FUZZ_STATS) console.log(`property ${t1 - t0} ms, checks ${Date.now() - t1} ms`);
  if (failure || problems.length) {
    const parts = [];
    if (failure) parts.push(failure.message);
    if (problems.length) parts.push(`After the property:\n- ${problems.join('\n- ')}`);
    throw new Error(parts.join('\n\n'));
  }
}

// ----------------------------------------------------------------------------------------------- room

interface Live {
  sock: Sock;
  ctx: Ctx;
  pid: number;
  /** The last answer was an accepted logout: a 1000 close is then expected. */
  loggedOut: boolean;
  extra?: RoomSession;
}

const baseCtx = (idName: string, token: string): Ctx => ({
  appid: APPID,
  appid_string: String(APPID),
  token,
  id_name: idName,
  user_id: '',
  session_id: '',
  room_id: FUZZ_ROOM,
});

/** A socket closed between two frames: its close code must be documented too. */
function closeBetweenFrames(live: Live, allowed: readonly number[]): string | null {
  const c = live.sock.closed;
  if (!c) return null;
  if (allowed.includes(c.code) || (live.loggedOut && c.code === 1000)) return null;
  return `the socket was closed with undocumented code ${c.code} (${c.reason}) after the previous answer`;
}

/**
 * After an answer: a ping must come back (the server survived the frame), or the socket closed with a
 * documented code; after no answer at all, was it a crash?
 */
async function afterAnswer(
  t: Target,
  l: Live,
  o: Outcome,
  allowedCloses: readonly number[],
): Promise<string | null> {
  // A deliberate close (a code other than 1006) comes from a live server; 1006 or silence may be a crash.
  if (o.kind === 'close' && o.code !== 1006) return t.deathAfterFrame(0);
  if (o.kind !== 'frame') return t.deathAfterFrame();
  const p = await l.sock.ping(FRAME_DEADLINE_MS);
  if (p === 'pong') return null;
  const death = await t.deathAfterFrame();
  if (death) return death;
  if (p === 'timeout') return `no pong within ${FRAME_DEADLINE_MS} ms after the answer`;
  const c = await l.sock.waitClose(FRAME_DEADLINE_MS);
  if (!c) return 'the socket stopped answering after the answer but did not close';
  if (allowedCloses.includes(c.code) || (l.loggedOut && c.code === 1000)) return null;
  return `after answering, the socket was closed with undocumented code ${c.code} (${c.reason || 'no reason'})`;
}

/** FUZZ_STATS=1 prints what the frames of each property got (to see what a property exercises). */
export class Stats {
  private readonly counts = new Map<string, { n: number; ms: number }>();
  private started = Date.now();
  begin(): void {
    this.started = Date.now();
  }
  add(o: Outcome, key: (j: Record<string, unknown>) => string): void {
    const k =
      o.kind === 'frame'
        ? key((o.frame.json ?? {}) as Record<string, unknown>)
        : o.kind === 'close'
          ? `close ${o.code}`
          : 'timeout';
    const c = this.counts.get(k) ?? { n: 0, ms: 0 };
    c.n++;
    c.ms += Date.now() - this.started;
    this.counts.set(k, c);
  }
  print(name: string): void {
    if (!process.env.FUZZ_STATS) return;
    const list = [...this.counts].sort((a, b) => b[1].n - a[1].n);
    console.log(
      `${name}: ${list.map(([k, c]) => `${k} ×${c.n} (~${Math.round(c.ms / c.n)} ms)`).join(', ')}`,
    );
  }
}

const roomKey = (j: Record<string, unknown>) =>
  `err ${String((j.body as Record<string, unknown> | undefined)?.err_code)}`;
const mediaKey = (j: Record<string, unknown>) => {
  const h = j.header as Record<string, unknown> | undefined;
  const b = j.body as Record<string, unknown> | undefined;
  return `${String(h?.cmd)} result ${String(b?.result)}`;
};

export async function roomProperty(
  t: Target,
  cmd: RoomCmd,
  phase: 'before login' | 'after login',
  numRuns: number,
): Promise<void> {
  const idName = `fuzz-${phase === 'before login' ? 'pre' : 'post'}-${cmd}`;
  let live: Live | null = null;
  let tokenFor = { pid: 0, token: '' };

  const connect = async (): Promise<Live> => {
    if (live && live.sock.open && live.pid === t.srv.pid) return live;
    const previous = live;
    live?.sock.terminate();
    live = null;
    if (previous && previous.pid === t.srv.pid) {
      const bad = closeBetweenFrames(previous, ROOM_CLOSE_CODES);
      if (bad) throw new Error(bad);
    }
    if (tokenFor.pid !== t.srv.pid) tokenFor = { pid: t.srv.pid, token: await t.srv.token(idName) };
    const ctx = baseCtx(idName, tokenFor.token);
    if (phase === 'before login') {
      const sock = await Sock.open(t.srv.ws('/ws'), isRoomPush);
      live = { sock, ctx, pid: t.srv.pid, loggedOut: false };
    } else {
      const s = await roomLogin(t.srv, idName, FUZZ_ROOM, { token: tokenFor.token });
      live = {
        sock: s.sock,
        ctx: { ...ctx, user_id: s.userId, session_id: s.sessionId },
        pid: t.srv.pid,
        loggedOut: false,
      };
    }
    return live;
  };

  const prop = fc.asyncProperty(roomFrames(cmd), async (frame: Frame) => {
    stats.begin();
    await t.ensureAlive();
    const l = await connect();
    l.sock.drain();
    const sent = frame.render(l.ctx);
    l.sock.send(sent.data, sent.binary);
    const o = await l.sock.next(FRAME_DEADLINE_MS);
    stats.add(o, roomKey);
    // The server closes (1000) shortly after an accepted logout, maybe instead of answering what follows.
    let problem = o.kind === 'close' && o.code === 1000 && l.loggedOut ? null : checkRoomAnswer(sent, o);
    const f = o.kind === 'frame' ? (o.frame.json as RoomAnswer | undefined) : undefined;
    const ok = f?.body?.err_code === 0;
    if (ok && f?.header?.cmd === 'logout') l.loggedOut = true;
    problem = (await afterAnswer(t, l, o, ROOM_CLOSE_CODES)) ?? problem;
    // A hostile frame that logged in makes the socket a logged-in one: start the next frame afresh.
    if (phase === 'before login' && ok && f?.header?.cmd === 'login') {
      l.sock.terminate();
      live = null;
    }
    if (problem) throw new Error(`${problem}\n(sent ${describeSent(sent)})`);
  });
  const stats = new Stats();
  try {
    await fc.assert(prop, params(numRuns, `room ${cmd} ${phase}`));
  } finally {
    (live as Live | null)?.sock.terminate();
    stats.print(`room ${cmd} ${phase}`);
  }
}

interface RoomAnswer {
  header?: { cmd?: unknown };
  body?: { err_code?: unknown };
}

function describeSent(s: Sent): string {
  const n = typeof s.data === 'string' ? s.data.length : s.data.length;
  return `${s.binary ? 'binary' : 'text'} frame of ${n} ${s.binary ? 'bytes' : 'characters'}`;
}

// ---------------------------------------------------------------------------------------------- media

/** Probes an ack: nothing may answer it, so the next answer on the socket must be the probe's. */
const PROBE_SEQ = 987_654;

export async function mediaProperty(
  t: Target,
  cmd: MediaRequest,
  phase: 'before login' | 'after login',
  numRuns: number,
): Promise<void> {
  const idName = `fuzz-m-${phase === 'before login' ? 'pre' : 'post'}-${cmd}`;
  let live: Live | null = null;
  let tokenFor = { pid: 0, token: '' };

  const connect = async (): Promise<Live> => {
    if (live && live.sock.open && live.pid === t.srv.pid) return live;
    const previous = live;
    live?.sock.terminate();
    live = null;
    if (previous && previous.pid === t.srv.pid) {
      const bad = closeBetweenFrames(previous, MEDIA_CLOSE_CODES);
      previous.extra?.sock.terminate();
      if (bad) throw new Error(bad);
    } else previous?.extra?.sock.terminate();
    if (tokenFor.pid !== t.srv.pid) tokenFor = { pid: t.srv.pid, token: await t.srv.token(idName) };
    const ctx = { ...baseCtx(idName, tokenFor.token), user_id: idName };
    if (phase === 'before login') {
      const sock = await Sock.open(t.srv.ws('/media'), isMediaPush);
      live = { sock, ctx, pid: t.srv.pid, loggedOut: false };
    } else {
      // Logged in to the room too, so CreateSessionReq gets as far as the (unreachable) media server.
      const room = await roomLogin(t.srv, idName, FUZZ_ROOM, { token: tokenFor.token });
      const m = await mediaLogin(t.srv, idName, FUZZ_ROOM);
      live = { sock: m.sock, ctx, pid: t.srv.pid, loggedOut: false, extra: room };
    }
    return live;
  };

  const prop = fc.asyncProperty(mediaFrames(cmd), async (frame: Frame) => {
    await t.ensureAlive();
    const l = await connect();
    l.sock.drain();
    const sent = frame.render(l.ctx);
    const alts = mediaExpectations(sent);
    l.sock.send(sent.data, sent.binary);
    // An ack gets nothing: a probe behind it must be the next thing answered.
    const probing = alts.some((a) => a.kind === 'none');
    if (probing)
      l.sock.sendJson({
        header: {
          version: '1.0.1',
          cmd: 'ClientHBReq',
          appid: APPID,
          seq: PROBE_SEQ,
          user_id: idName,
          session_id: 0,
        },
        body: {},
      });
    let o = await l.sock.next(FRAME_DEADLINE_MS);
    stats.add(o, mediaKey);
    let problem: string | null = null;
    if (o.kind === 'frame') {
      const h = (o.frame.json as { header?: { cmd?: unknown; seq?: unknown } })?.header;
      const isProbe = probing && h?.cmd === 'ClientHBRsp' && h.seq === PROBE_SEQ;
      if (!isProbe) {
        problem = checkMediaReply(alts, o.frame);
        // The frame also answered: the probe's reply follows.
        if (!problem && probing) o = await l.sock.next(FRAME_DEADLINE_MS);
      }
    } else if (o.kind === 'close') problem = checkMediaClose(o);
    else problem = 'no answer (reply or close) within the deadline';
    const after = await afterAnswer(t, l, o, MEDIA_CLOSE_CODES);
    if (o.kind === 'frame') {
      const f = o.frame.json as { header?: { cmd?: unknown }; body?: { result?: unknown } };
      if (phase === 'before login' && f?.header?.cmd === 'LoginRsp' && f.body?.result === 0) {
        l.sock.terminate();
        live = null;
      }
    }
    problem = after ?? problem;
    if (problem) throw new Error(`${problem}\n(sent ${describeSent(sent)})`);
  });
  const stats = new Stats();
  try {
    await fc.assert(prop, params(numRuns, `media ${cmd} ${phase}`));
  } finally {
    const l = live as Live | null;
    l?.sock.terminate();
    l?.extra?.sock.terminate();
    stats.print(`media ${cmd} ${phase}`);
  }
}
