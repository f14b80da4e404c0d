/**
 * Caps on open TCP connections (HTTP and WebSocket alike: an upgraded socket stays the same socket):
 *
 * - In total (`limits.maxConnections`), whatever the connection is.
 * - Per remote address (`limits.maxConnectionsPerIp`), only while a connection has not logged in: a TCP
 *   connection before its request, an HTTP connection, a WebSocket before its login. That is where an
 *   address's count protects (connections that cost us and prove nothing); once a WebSocket logs in it
 *   counts against its user and app instead (Caps), so a school, office or campus behind one public
 *   address gets in: its pupils are many users, not one abuser.
 * - At either cap, an idle kept-alive HTTP connection (its response sent, nothing in flight) is closed to
 *   make room, the address's own first, before a new connection is refused: browsers open a new one when
 *   a kept-alive one is gone, so a page load never waits on another's idle connection.
 *
 * A connection over a cap is destroyed before it is read; refusals are counted for /healthz and logged at
 * most every 10 s.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';

export interface ConnectionStats {
  open: number;
  /** Connections counted against their address (not logged in). */
  notLoggedIn: number;
  /** Connections destroyed at once because of limits.maxConnections. */
  refusedTotal: number;
  /** Connections destroyed at once because of limits.maxConnectionsPerIp. */
  refusedPerIp: number;
  /** Idle kept-alive HTTP connections closed to make room for a new one. */
  idleClosed: number;
  /** Connections closed since the start (accepted ones). */
  closed: number;
}

export interface ConnectionLog {
  warn(obj: object, msg?: string): void;
}

interface Entry {
  key: string;
  /** Counted against its address (not logged in). */
  counted: boolean;
  /** Requests in flight on it (HTTP); at 0 after a response it is an idle kept-alive connection. */
  active: number;
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one client on a dual-stack listener. */
function clientKey(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export class ConnectionLimits {
  private readonly entries = new Map<Socket, Entry>();
  private readonly perIp = new Map<string, number>();
  /** Idle kept-alive HTTP connections, oldest first (all, and per address). */
  private readonly idle = new Set<Socket>();
  private readonly idleByKey = new Map<string, Set<Socket>>();
  private readonly counts: ConnectionStats = {
    open: 0,
    notLoggedIn: 0,
    refusedTotal: 0,
    refusedPerIp: 0,
    idleClosed: 0,
    closed: 0,
  };
  private lastWarn = 0;

  constructor(
    server: Server,
    private readonly limits: { maxConnections: number; maxConnectionsPerIp: number },
    private readonly log: ConnectionLog,
    /**
     * Connections from a front that carries many clients (the cloud proxy's unix socket: no address):
     * counted in the total only; the front caps its clients per address itself.
     */
    private readonly front: (socket: Socket) => boolean = () => false,
  ) {
    // Before Node's own listener: a refused socket is destroyed before the HTTP parser is set up on it.
    server.prependListener('connection', (socket: Socket) => this.accept(socket));
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.request(req, res));
  }

  stats(): ConnectionStats {
    return { ...this.counts };
  }

  /** A WebSocket on this connection logged in: it no longer counts against its address. */
  loggedIn(socket: Socket): void {
    const e = this.entries.get(socket);
    if (!e || !e.counted) return;
    e.counted = false;
    this.uncount(e.key);
  }

  private accept(socket: Socket): void {
    const fromFront = this.front(socket);
    const address = socket.remoteAddress;
    if (address === undefined && !fromFront) return void socket.destroy(); // already gone
    // The front's connections share one key that no per-address cap applies to.
    const key = fromFront ? '' : clientKey(address!);
    if (this.counts.open >= this.limits.maxConnections && !this.closeIdle(this.idle))
      return this.refuse(socket, 'refusedTotal');
    if (
      !fromFront &&
      (this.perIp.get(key) ?? 0) >= this.limits.maxConnectionsPerIp &&
      !this.closeIdle(this.idleByKey.get(key))
    )
      return this.refuse(socket, 'refusedPerIp');
    const e: Entry = { key, counted: !fromFront, active: 0 };
    this.entries.set(socket, e);
    this.counts.open++;
    if (e.counted) {
      this.counts.notLoggedIn++;
      this.perIp.set(key, (this.perIp.get(key) ?? 0) + 1);
    }
    socket.once('close', () => this.release(socket));
  }

  /** Frees a connection's slots (once: at its close, or earlier when it is closed to make room). */
  private release(socket: Socket): void {
    const e = this.entries.get(socket);
    if (!e) return;
    this.entries.delete(socket);
    this.notIdle(socket, e);
    this.counts.open--;
    this.counts.closed++;
    if (e.counted) this.uncount(e.key);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const e = this.entries.get(socket);
    if (!e) return;
    this.notIdle(socket, e);
    e.active++;
    res.once('close', () => {
      e.active--;
      // Still open and kept alive, nothing in flight: idle (a closed socket has left the map).
      if (e.active === 0 && this.entries.get(socket) === e && !socket.destroyed) {
        this.idle.add(socket);
        let mine = this.idleByKey.get(e.key);
        if (!mine) this.idleByKey.set(e.key, (mine = new Set()));
        mine.add(socket);
      }
    });
  }

  private notIdle(socket: Socket, e: Entry): void {
    if (!this.idle.delete(socket)) return;
    const mine = this.idleByKey.get(e.key);
    mine?.delete(socket);
    if (mine?.size === 0) this.idleByKey.delete(e.key);
  }

  /** Closes the oldest idle connection of `set` and frees its slots now; false when there is none. */
  private closeIdle(set: Set<Socket> | undefined): boolean {
    const oldest = set?.values().next();
    if (!oldest || oldest.done) return false;
    const socket = oldest.value;
    this.release(socket);
    socket.destroy();
    this.counts.idleClosed++;
    return true;
  }

  private uncount(key: string): void {
    this.counts.notLoggedIn--;
    const n = (this.perIp.get(key) ?? 1) - 1;
    if (n > 0) this.perIp.set(key, n);
    else this.perIp.delete(key);
  }

  private refuse(socket: Socket, why: 'refusedTotal' | 'refusedPerIp'): void {
    this.counts[why]++;
    socket.destroy();
    if (Date.now() - this.lastWarn > 10_000) {
      this.lastWarn = Date.now();
      this.log.warn({ ...this.counts, remote: socket.remoteAddress }, 'connections refused (limits)');
    }
  }
}
