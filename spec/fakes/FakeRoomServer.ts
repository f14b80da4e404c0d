/**
 * A tiny scripted room server on top of FakePlatform: accepts every socket the client creates (or
 * refuses it), answers `login` and `hb` (and a few other cmds) after `latencyMs` of fake time, and can
 * be told to stop answering, wholly or per cmd, so requests time out.
 */
import type { LoginRsp } from '../../src/protocol/room';
import { FakePlatform, FakeSocket, type Frame } from './FakePlatform';

/** Reply body for one request, or `undefined` for no reply. */
export type Handler = (body: Record<string, unknown>, frame: Frame, socket: FakeSocket) => Reply | undefined;
export type Reply = Record<string, unknown>;

export class FakeRoomServer {
  /** Fake-time delay of every open, reply and refusal, ms. */
  latencyMs = 0;
  /** When set, new sockets are closed (onerror + onclose) instead of opened. */
  refuseConnections = false;
  /** When false, no request gets a reply (pushes still work). */
  answering = true;
  /** Cmds that get no reply even while answering. */
  readonly muted = new Set<string>();
  /** Server clock minus the client's, ms; sent as login `ret_timestamp`. */
  clockOffsetMs = 0;
  /** Fields merged into every login reply. */
  login: Partial<LoginRsp> = {};
  /** online_count in hb replies. */
  onlineCount = 1;
  /** Per-cmd reply builders; override or add freely. */
  readonly handlers: Record<string, Handler>;
  private readonly sessions = new Map<FakeSocket, { user_id: string; session_id: string }>();
  private sessionCounter = 0;
  private bigmsgCounter = 0;
  private msgIdCounter = 0;

  constructor(private readonly platform: FakePlatform) {
    platform.onConnect = (s) => this.accept(s);
    this.handlers = {
      login: (body, _f, socket) => {
        const n = ++this.sessionCounter;
        const ids = { user_id: `uid-${String(body.id_name)}`, session_id: `sess-${n}` };
        this.sessions.set(socket, ids);
        return {
          err_code: 0,
          ...ids,
          hearbeat_interval: 10_000,
          stream_seq: 0,
          stream_info: [],
          anchor_info: { anchor_id: '', anchor_id_name: '', anchor_nick_name: '' },
          online_count: 1,
          config_info: { log_level: 3, log_url: '' },
          ret_timestamp: String(this.platform.now() + this.clockOffsetMs),
          bigim_time_window: 0,
          dati_time_window: 0,
          server_user_seq: 0,
          trans_seqs: [],
          ...this.login,
        };
      },
      hb: () => ({
        err_code: 0,
        hearbeat_interval: this.login.hearbeat_interval ?? 10_000,
        stream_seq: 0,
        server_user_seq: 0,
        online_count: this.onlineCount,
        trans_seqs: [],
        bigim_time_window: this.login.bigim_time_window ?? 0,
        dati_time_window: this.login.dati_time_window ?? 0,
      }),
      logout: () => ({ err_code: 0 }),
      client_log: () => ({ err_code: 0 }),
      custommsg: () => ({ err_code: 0 }),
      im_chat: () => ({ err_code: 0, msg_id: ++this.msgIdCounter }),
      relay: (body) => ({ err_code: 0, relay_result: `echo:${String(body.relay_data)}` }),
      bigim_chat: (body) => ({
        err_code: 0,
        msgs: (body.msgs as { bigmsg_client_id: string }[]).map((m) => ({
          bigmsg_client_id: m.bigmsg_client_id,
          bigmsg_id: `bm-${++this.bigmsgCounter}`,
        })),
        bigim_time_window: this.login.bigim_time_window ?? 0,
      }),
    };
  }

  /** The socket created last. */
  get socket(): FakeSocket {
    return this.platform.lastSocket;
  }

  /** Every request frame of `cmd` the client sent, over all sockets, in order. */
  requests(cmd: string): Frame[] {
    return this.platform.sockets.flatMap((s) => s.sentCmd(cmd));
  }

  /** Session ids the server gave `socket` at login. */
  sessionOf(socket: FakeSocket = this.socket): { user_id: string; session_id: string } | undefined {
    return this.sessions.get(socket);
  }

  /** A push on `socket` (default: the last one), with that socket's session in the header. */
  push(
    cmd: string,
    body: Record<string, unknown>,
    socket: FakeSocket = this.socket,
    sessionId?: string,
  ): void {
    const ids = this.sessions.get(socket);
    socket.serverSend({
      header: {
        Protocol: 'push',
        cmd,
        appid: 1,
        seq: 0,
        user_id: ids?.user_id ?? '',
        session_id: sessionId ?? ids?.session_id ?? '',
        room_id: '',
      },
      body,
    });
  }

  /** Replies to a request frame by hand (e.g. a late reply), with `body` as the reply body. */
  reply(frame: Frame, body: Reply, socket: FakeSocket = this.socket): void {
    socket.serverSend({ header: { ...frame.header, Protocol: 'rsp' }, body });
  }

  private accept(socket: FakeSocket): void {
    this.platform.setTimeout(() => {
      if (this.refuseConnections) socket.drop(1006, 'refused');
      else if (socket.readyState === 0) socket.open();
    }, this.latencyMs);
    socket.onClientFrame = (frame) => {
      if (!this.answering || this.muted.has(frame.header.cmd)) return;
      const handler = this.handlers[frame.header.cmd];
      const body = handler?.(frame.body, frame, socket);
      if (body === undefined) return;
      this.platform.setTimeout(() => this.reply(frame, body, socket), this.latencyMs);
    };
  }
}
