/**
 * A raw media-signalling client (`/media`, legacy framing) over a real WebSocket, for server tests that
 * drive sessions by hand: LoginReq, CreateSessionReq, MediaDescReq, CloseSessionReq; every frame it
 * receives is recorded with its arrival order (shared with rawRoom.ts).
 */
import WebSocket from 'ws';
import { arrived, type Frame } from './rawRoom';

export const OFFER =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n';

export class RawMedia {
  ws!: WebSocket;
  seq = 0;
  frames: Frame[] = [];
  closed: { code: number } | null = null;

  constructor(
    private readonly url: string,
    readonly appid: number,
    readonly idName: string,
  ) {}

  async open(): Promise<void> {
    this.ws = new WebSocket(this.url);
    this.ws.on('message', (d) => this.frames.push(arrived(JSON.parse(d.toString()) as Frame)));
    this.ws.on('close', (code) => (this.closed = { code }));
    await new Promise<void>((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
    });
  }

  send(cmd: string, body: unknown, sessionId: number | string = 0): number {
    const seq = ++this.seq;
    const header = {
      version: '1.0.1',
      cmd,
      appid: String(this.appid),
      seq,
      user_id: this.idName,
      session_id: sessionId,
    };
    this.ws.send(JSON.stringify({ header, body }));
    return seq;
  }

  async wait(pred: (f: Frame) => boolean, what: string, ms = 3000): Promise<Frame> {
    const end = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > end)
        throw new Error(
          `${this.idName} (media): timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((x) => [x.header.cmd, x.body]))}`,
        );
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async request(cmd: string, body: unknown, sessionId: number | string = 0): Promise<Frame> {
    const seq = this.send(cmd, body, sessionId);
    return this.wait((f) => f.header.seq === seq && String(f.header.cmd).endsWith('Rsp'), `${cmd} reply`);
  }

  push(cmd: string, pred: (b: Record<string, unknown>) => boolean = () => true, ms = 3000): Promise<Frame> {
    return this.wait((f) => f.header.cmd === cmd && pred(f.body), cmd, ms);
  }

  async login(token: string, roomId: string): Promise<void> {
    const r = await this.request('LoginReq', { token, roomid: roomId });
    if (r.body.result !== 0) throw new Error(`media login failed: ${JSON.stringify(r.body)}`);
  }

  /** Publishes `streamId` (CreateSessionReq type 0 + the offer); resolves with the session id once answered. */
  async publish(streamId: string): Promise<number> {
    const c = await this.request('CreateSessionReq', { type: 0, stream_id: streamId });
    if (c.body.result !== 0) throw new Error(`publish ${streamId}: ${JSON.stringify(c.body)}`);
    const id = Number(c.body.session_id);
    const d = await this.request('MediaDescReq', { type: 0, sdp: OFFER }, id);
    if (d.body.result !== 0) throw new Error(`publish offer ${streamId}: ${JSON.stringify(d.body)}`);
    await this.push('MediaDescPush', (b) => b.type === 1);
    return id;
  }

  /** Plays `streamId` (server offers, we answer); resolves with the session id, or the failed reply body. */
  async play(streamId: string): Promise<number | Record<string, unknown>> {
    const c = await this.request('CreateSessionReq', { type: 1, stream_id: streamId, negotiate_mode: 1 });
    if (c.body.result !== 0) return c.body;
    const id = Number(c.body.session_id);
    await this.wait((f) => f.header.cmd === 'MediaDescPush' && f.header.session_id === id, 'the offer');
    const d = await this.request('MediaDescReq', { type: 1, sdp: OFFER }, id);
    if (d.body.result !== 0) throw new Error(`play answer ${streamId}: ${JSON.stringify(d.body)}`);
    return id;
  }
}
