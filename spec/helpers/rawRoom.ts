/**
 * A raw legacy-protocol room client over a real WebSocket: sends frames as the original SDK does and
 * records every frame it receives, for server tests that need to see the wire.
 */
import WebSocket from 'ws';
import { mintLoginToken } from '../../src/server';

export const APPID = 1739272706;
export const SIGN = 'ab'.repeat(32);

export interface Frame {
  header: Record<string, unknown>;
  body: Record<string, unknown>;
  /** Arrival order across every raw client of the process (rawMedia.ts shares the counter). */
  at?: number;
}

let arrivals = 0;
/** Stamps a received frame with its arrival order among all raw clients. */
export function arrived<F extends { at?: number }>(f: F): F {
  f.at = ++arrivals;
  return f;
}

export class Raw {
  ws!: WebSocket;
  seq = 0;
  frames: Frame[] = [];
  closed: { code: number; reason: string } | null = null;
  session = { user_id: '', session_id: '' };
  userStateFlag = 1;
  /** The app this client logs in to (the header's appid). */
  appid = APPID;
  constructor(
    private readonly url: string,
    readonly idName: string,
    readonly room = 'r1',
  ) {}
  open(): Promise<void> {
    this.ws = new WebSocket(this.url);
    this.ws.on('message', (d) => this.frames.push(arrived(JSON.parse(d.toString()) as Frame)));
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    return new Promise((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
    });
  }
  send(cmd: string, body: unknown): number {
    const seq = ++this.seq;
    this.ws.send(
      JSON.stringify({
        header: { Protocol: 'req', cmd, appid: this.appid, seq, ...this.session, room_id: this.room },
        body,
      }),
    );
    return seq;
  }
  async wait(pred: (f: Frame) => boolean, what: string, ms = 3000): Promise<Frame> {
    const end = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > end)
        throw new Error(
          `${this.idName}: timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((x) => x.header.cmd))}`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  /** The reply to `seq`, or null once the socket is closed without one (bounded). */
  async replyOrClose(seq: number, ms = 3000): Promise<Frame | null> {
    const end = Date.now() + ms;
    for (;;) {
      const f = this.frames.find((x) => x.header.seq === seq && x.header.Protocol === 'rsp');
      if (f) return f;
      if (this.closed) return null;
      if (Date.now() > end)
        throw new Error(`${this.idName}: no reply to seq ${seq} and no close in ${ms} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async request(cmd: string, body: unknown): Promise<Frame> {
    const seq = this.send(cmd, body);
    return this.wait((f) => f.header.seq === seq && f.header.Protocol === 'rsp', `${cmd} reply`);
  }
  push(cmd: string, pred: (b: Record<string, unknown>) => boolean = () => true): Promise<Frame> {
    return this.wait((f) => f.header.cmd === cmd && f.header.Protocol === 'push' && pred(f.body), cmd);
  }
  async login(
    role = 1,
    token = mintLoginToken({ appid: APPID, appSign: SIGN, idName: this.idName }),
  ): Promise<Frame> {
    await this.open();
    const r = await this.request('login', {
      id_name: this.idName,
      nick_name: this.idName.toUpperCase(),
      role,
      token,
      version: '1.12.5',
      room_name: this.room,
      user_state_flag: this.userStateFlag,
      room_create_flag: 1,
      client_type: 3,
      third_token: '',
    });
    if (r.body.err_code === 0)
      this.session = { user_id: r.body.user_id as string, session_id: r.body.session_id as string };
    return r;
  }
}
