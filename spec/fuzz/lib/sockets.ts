/**
 * Raw WebSocket clients for the hostile suite: a socket that queues what it receives, so a test can ask
 * "what answered the frame I just sent?" (the next non-push frame, or the close), with a deadline.
 */
import WebSocket from 'ws';
import type { FuzzServer } from './server';
import { APPID } from './server';

export interface Received {
  text: string;
  binary: boolean;
  /** JSON.parse of the text, or undefined when it does not parse. */
  json: unknown;
}

export type Outcome =
  | { kind: 'frame'; frame: Received; pushesBefore: Received[] }
  | { kind: 'close'; code: number; reason: string; pushesBefore: Received[] }
  | { kind: 'timeout'; pushesBefore: Received[] };

export interface Header {
  [k: string]: unknown;
}

export class Sock {
  readonly ws: WebSocket;
  private readonly inbox: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  private wake: (() => void) | null = null;
  /** Every push seen (a room frame with Protocol "push", a media frame whose cmd ends in Push). */
  readonly pushes: Received[] = [];

  private constructor(
    ws: WebSocket,
    private readonly isPush: (r: Received) => boolean,
  ) {
    this.ws = ws;
    ws.on('message', (data: Buffer, binary: boolean) => {
      const text = data.toString();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.inbox.push({ text, binary, json });
      this.wake?.();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.wake?.();
    });
    ws.on('error', () => {
      /* the close event follows and carries the code */
    });
  }

  /** Opens a socket; rejects (with the reason) if it does not open within `ms`. */
  static open(
    url: string,
    isPush: (r: Received) => boolean,
    ms = 3000,
    options: WebSocket.ClientOptions = {},
  ): Promise<Sock> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: ms, ...options });
      const s = new Sock(ws, isPush);
      const t = setTimeout(() => {
        ws.terminate();
        reject(new Error(`${url}: not open within ${ms} ms`));
      }, ms);
      ws.once('open', () => {
        clearTimeout(t);
        resolve(s);
      });
      ws.once('error', (e) => {
        clearTimeout(t);
        reject(new Error(`${url}: ${e.message}`));
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(t);
        reject(new Error(`${url}: HTTP ${res.statusCode} instead of an upgrade`));
        ws.terminate();
      });
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.closed;
  }

  send(data: string | Buffer, binary = false): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(data, { binary }, () => {
      /* a send on a socket the server is closing fails: the close event says why */
    });
  }

  sendJson(frame: unknown): void {
    this.send(JSON.stringify(frame));
  }

  /** Drops what was received so far (pushes are still recorded). */
  drain(): void {
    for (const r of this.inbox.splice(0)) if (this.isPush(r)) this.pushes.push(r);
  }

  /** The next non-push frame, or the close, or a timeout after `ms`. */
  async next(ms = 2000): Promise<Outcome> {
    const pushesBefore: Received[] = [];
    const end = Date.now() + ms;
    for (;;) {
      while (this.inbox.length) {
        const r = this.inbox.shift()!;
        if (this.isPush(r)) {
          this.pushes.push(r);
          pushesBefore.push(r);
          continue;
        }
        return { kind: 'frame', frame: r, pushesBefore };
      }
      if (this.closed) return { kind: 'close', ...this.closed, pushesBefore };
      const left = end - Date.now();
      if (left <= 0) return { kind: 'timeout', pushesBefore };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
  }

  /** Waits for the close (bounded); returns it or null. */
  async waitClose(ms: number): Promise<{ code: number; reason: string } | null> {
    const end = Date.now() + ms;
    while (!this.closed && Date.now() < end) {
      this.drain();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, end - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
    return this.closed;
  }

  /**
   * A WebSocket ping after a frame: the server's event loop answers it only once it has handled the
   * frame (and any promise it started synchronously), so a pong means "still alive after that frame".
   */
  ping(ms = 2000): Promise<'pong' | 'closed' | 'timeout'> {
    if (!this.open) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const done = (r: 'pong' | 'closed' | 'timeout') => {
        clearTimeout(t);
        this.ws.off('pong', onPong);
        this.ws.off('close', onClose);
        resolve(r);
      };
      const onPong = () => done('pong');
      const onClose = () => done('closed');
      const t = setTimeout(() => done('timeout'), ms);
      this.ws.on('pong', onPong);
      this.ws.on('close', onClose);
      try {
        this.ws.ping();
      } catch {
        done('closed');
      }
    });
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export const isRoomPush = (r: Received): boolean =>
  !!r.json &&
  typeof r.json === 'object' &&
  (r.json as { header?: { Protocol?: unknown } }).header?.Protocol === 'push';

export const isMediaPush = (r: Received): boolean => {
  const cmd = (r.json as { header?: { cmd?: unknown } } | undefined)?.header?.cmd;
  return typeof cmd === 'string' && cmd.endsWith('Push');
};

export interface RoomSession {
  sock: Sock;
  appid: number;
  idName: string;
  roomId: string;
  userId: string;
  sessionId: string;
  seq: number;
  /** A well-formed request header for this session. */
  header(cmd: string, seq?: number): Header;
}

/** Logs in like the original SDK (legacy-sdk.md section 10): a real token from /token, then `login`. */
export async function roomLogin(
  srv: FuzzServer,
  idName: string,
  roomId: string,
  opts: { token?: string; userStateFlag?: number; localAddress?: string; thirdToken?: string } = {},
): Promise<RoomSession> {
  const token = opts.token ?? (await srv.token(idName));
  const sock = await Sock.open(srv.ws('/ws'), isRoomPush, 3000, { localAddress: opts.localAddress });
  sock.sendJson({
    header: { Protocol: 'req', cmd: 'login', appid: APPID, seq: 1, session_id: '', room_id: roomId },
    body: {
      id_name: idName,
      nick_name: idName.toUpperCase(),
      role: 1,
      token,
      version: '1.12.5',
      room_name: roomId,
      user_state_flag: opts.userStateFlag ?? 0,
      room_create_flag: 1,
      client_type: 3,
      third_token: opts.thirdToken ?? '',
    },
  });
  // A third token waits for the app's business server.
  const o = await sock.next(opts.thirdToken ? 8000 : 3000);
  const body = o.kind === 'frame' ? (o.frame.json as { body?: Record<string, unknown> })?.body : undefined;
  if (!body || body.err_code !== 0) {
    sock.terminate();
    throw new Error(`login of ${idName} to ${roomId} failed: ${JSON.stringify(o).slice(0, 500)}`);
  }
  const s: RoomSession = {
    sock,
    appid: APPID,
    idName,
    roomId,
    userId: String(body.user_id),
    sessionId: String(body.session_id),
    seq: 1,
    header(cmd, seq) {
      return {
        Protocol: 'req',
        cmd,
        appid: APPID,
        seq: seq ?? ++s.seq,
        user_id: s.userId,
        session_id: s.sessionId,
        room_id: roomId,
      };
    },
  };
  return s;
}

export interface MediaSession {
  sock: Sock;
  idName: string;
  seq: number;
  header(cmd: string, seq?: number, sessionId?: unknown): Header;
}

/** Media LoginReq: header {version, cmd, appid, seq, user_id: idName, session_id: 0}, body {token, roomid}. */
export async function mediaLogin(
  srv: FuzzServer,
  idName: string,
  roomId: string,
  opts: { token?: string; localAddress?: string } = {},
): Promise<MediaSession> {
  const token = opts.token ?? (await srv.token(idName));
  const sock = await Sock.open(srv.ws('/media'), isMediaPush, 3000, { localAddress: opts.localAddress });
  const m: MediaSession = {
    sock,
    idName,
    seq: 0,
    header(cmd, seq, sessionId = 0) {
      return {
        version: '1.0.1',
        cmd,
        appid: APPID,
        seq: seq ?? ++m.seq,
        user_id: idName,
        session_id: sessionId,
      };
    },
  };
  sock.sendJson({ header: m.header('LoginReq'), body: { token, roomid: roomId } });
  const o = await sock.next(3000);
  const body = o.kind === 'frame' ? (o.frame.json as { body?: Record<string, unknown> })?.body : undefined;
  if (!body || body.result !== 0) {
    sock.terminate();
    throw new Error(`media login of ${idName} failed: ${JSON.stringify(o).slice(0, 500)}`);
  }
  return m;
}
