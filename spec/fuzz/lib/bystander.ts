/**
 * A normal client, alone in its own room from the start, beating `hb` every ~200 ms. Whatever the hostile
 * clients do elsewhere, every one of its beats must be answered (err_code 0, its own seq, within 2 s),
 * it must hear no push at all (it is alone: no stream, user, chat, signal or kick-out pushes), and it
 * must stay logged in.
 */
import { roomLogin, type RoomSession } from './sockets';
import type { FuzzServer } from './server';

export const BYSTANDER_ROOM = 'bystander-room';
export const BYSTANDER_ID = 'bystander';
const HB_EVERY_MS = 200;
const HB_DEADLINE_MS = 2000;

export class Bystander {
  private session!: RoomSession;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly inFlight = new Map<number, number>();
  private readonly problems: string[] = [];
  readonly rtts: number[] = [];
  beats = 0;

  static async start(srv: FuzzServer, localAddress?: string): Promise<Bystander> {
    const b = new Bystander();
    b.session = await roomLogin(srv, BYSTANDER_ID, BYSTANDER_ROOM, { userStateFlag: 1, localAddress });
    const ws = b.session.sock.ws;
    ws.on('message', (data: Buffer) => b.onFrame(data.toString()));
    ws.on('close', (code: number, reason: Buffer) =>
      b.problems.push(`bystander socket closed ${code} ${reason.toString()}`),
    );
    b.timer = setInterval(() => b.beat(), HB_EVERY_MS);
    return b;
  }

  private beat(): void {
    const now = Date.now();
    // Late replies are judged after this process has read what already reached it: when the test process
    // itself was busy (it drives the storm), timers run before the I/O that waited, and a reply the server
    // sent in time would be counted late. I/O callbacks run before setImmediate.
    setImmediate(() => this.expire(now));
    if (!this.session.sock.open) return;
    const header = this.session.header('hb');
    this.inFlight.set(header.seq as number, now);
    this.session.sock.sendJson({ header, body: { reserve: 0 } });
  }

  private expire(now: number): void {
    for (const [seq, at] of this.inFlight)
      if (now - at > HB_DEADLINE_MS) {
        this.problems.push(`bystander hb seq ${seq} not answered within ${HB_DEADLINE_MS} ms`);
        this.inFlight.delete(seq);
      }
  }

  private onFrame(text: string): void {
    let f: { header?: Record<string, unknown>; body?: Record<string, unknown> };
    try {
      f = JSON.parse(text) as typeof f;
    } catch {
      this.problems.push(`bystander got a frame that is not JSON: ${text.slice(0, 200)}`);
      return;
    }
    const h = f.header ?? {};
    if (h.Protocol === 'push') {
      this.problems.push(`bystander heard a push it should not: ${text.slice(0, 300)}`);
      return;
    }
    const seq = h.seq as number;
    const at = this.inFlight.get(seq);
    if (h.cmd !== 'hb' || at === undefined) {
      // The login reply was consumed by roomLogin; anything else is unexpected.
      if (h.cmd !== 'login') this.problems.push(`bystander got an unexpected frame: ${text.slice(0, 300)}`);
      return;
    }
    this.inFlight.delete(seq);
    this.beats++;
    this.rtts.push(Date.now() - at);
    if (f.body?.err_code !== 0) this.problems.push(`bystander hb seq ${seq} answered ${text.slice(0, 300)}`);
    else if (h.session_id !== this.session.sessionId)
      this.problems.push(`bystander hb reply carries another session: ${text.slice(0, 300)}`);
  }

  /** Everything that went wrong since the last call (and clears it). Waits for beats in flight first. */
  async check(): Promise<string[]> {
    const before = this.beats;
    const started = Date.now();
    const end = started + HB_DEADLINE_MS + HB_EVERY_MS;
    // At least one more beat must come back: the bystander is logged in and served right now.
    while (this.beats === before && Date.now() < end && this.session.sock.open)
      await new Promise((r) => setTimeout(r, 20));
    if (this.beats === before && this.problems.length === 0)
      this.problems.push(`bystander: no hb answered within ${Date.now() - started} ms of the check`);
    const worst = Math.max(0, ...this.rtts);
    if (this.problems.length) this.problems.push(`(bystander worst hb round trip ${worst} ms)`);
    return this.problems.splice(0);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.session?.sock.terminate();
  }
}
