/**
 * TURN for the media plane: our own coturn under the one child supervisor (process/Supervisor.ts) with a
 * config set written to a temporary directory (never /etc/turnserver.conf, never the Debian service), or
 * the TURN servers of `turn.servers`. It hands each media session what `CreateSessionRsp` carries.
 *
 * What a session gets (docs/protocol.md, "TURN"):
 * - `turn_server`, `stun_server`, `turn_username`, `turn_auth_key`: for the original SDK, which puts
 *   `[turn_server, stun_server]` into ONE relay-only ICE server with the credentials. A `stun:` URL is
 *   dead weight there, so `stun_server` carries the second TURN URL (TLS by default): that is how the
 *   original reaches TURN when UDP is blocked.
 * - extensions for the shim: `turn_urls` (every URL) and `relay_only: 1` when the app forces relay.
 *
 * coturn that cannot start (not installed, a port taken) never stops the server: the room and media planes
 * run, TURN is off, and the log says why (`/healthz` media.turn "down").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { randomBytes, createHash } from 'node:crypto';
import type { ExternalTurnServer, ResolvedConfig } from '../config';
import { findExecutable } from '../process/children';
import { portOpen, Supervisor } from '../process/Supervisor';
import { bridgeIps, bridgeRuns } from '../bridgeConfig';
import { allowedPeers, coturnConfig, relayIpOf } from './coturnConfig';
import { hostOf, turnCredential, turnUrls, turnUser } from './credentials';
import { selfSignedCert, spkiHash } from './tlsCert';

/** The ICE fields of a CreateSessionRsp. */
export interface IceGrant {
  turn_server: string;
  stun_server: string;
  turn_username: string;
  turn_auth_key: string;
  /** ext: every TURN URL of the server, in order of preference. */
  turn_urls?: string[];
  /** ext: the app forces relay-only (iceTransportPolicy 'relay'). */
  relay_only?: 1;
}

export const NO_ICE: IceGrant = { turn_server: '', stun_server: '', turn_username: '', turn_auth_key: '' };

/** up: our coturn serves; down: it is restarting or could not start; off: no TURN; external: turn.servers. */
export type TurnState = 'up' | 'down' | 'off' | 'external';

const isAny = (ip: string) => ip === '0.0.0.0' || ip === '::';

/** A port free for both TCP and UDP on `ip` right now (0 = the OS picks a TCP port, then UDP is tried). */
async function freeBoth(ip: string, want: number): Promise<number | null> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await new Promise<number | null>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(null));
      s.listen(want, ip, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port === null) return null;
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
      u.once('error', () => resolve(false));
      u.bind(port, ip, () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
    if (want !== 0) return null;
  }
  return null;
}

export class TurnService {
  private supervisor: Supervisor | null = null;
  private dir = '';
  private port = 0;
  private tlsPort = 0;
  private secret = '';
  private listenIps: string[] = [];
  private started = false;
  /** Why TURN is off, for /healthz and the log. */
  reason = '';

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
  ) {}

  get state(): TurnState {
    const t = this.config.turn;
    if (!t.enabled || !this.config.janus.enabled) return 'off';
    if (t.servers.length) return 'external';
    return this.supervisor?.up ? 'up' : 'down';
  }

  get pid(): number | undefined {
    return this.supervisor?.pid;
  }

  get starts(): number {
    return this.supervisor?.starts ?? 0;
  }

  /** The ports in use (after start), for /healthz and the network listing. */
  get ports(): { port: number; tlsPort: number } {
    return { port: this.port, tlsPort: this.tlsPort };
  }

  /**
   * Where coturn's plain TCP listener is reachable from this host (the cloud proxy relays TURN over TLS
   * to it); null without our own coturn.
   */
  localAddress(): { host: string; port: number } | null {
    if (!this.started) return null;
    const ip = this.listenIps[0] ?? (this.config.host === '::' ? '::' : '0.0.0.0');
    return { host: ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip, port: this.port };
  }

  /** Starts coturn (when spawned). Never throws: a failure leaves TURN off and says why. */
  async start(): Promise<void> {
    const t = this.config.turn;
    if (!t.enabled) return this.turnOff('turn.enabled is false');
    if (!this.config.janus.enabled) return this.turnOff('no media plane (janus.enabled is false)');
    if (t.servers.length) {
      this.log.info({ servers: t.servers.map((s) => s.urls[0]) }, 'TURN: external servers');
      return;
    }
    try {
      await this.spawn();
      this.started = true;
    } catch (e) {
      this.reason = (e as Error).message;
      this.log.warn(
        `\n*** TURN is OFF: ${this.reason}` +
          '\n*** Pages whose network blocks UDP cannot publish or play, and the original SDK cannot publish.' +
          '\n*** Install coturn (apt-get install -y coturn), free the ports, or set turn.servers / turn.enabled.',
      );
      await this.supervisor?.stop();
      this.supervisor = null;
    }
  }

  private turnOff(why: string): void {
    this.reason = why;
    this.log.info(`TURN off: ${why}`);
  }

  private async spawn(): Promise<void> {
    const t = this.config.turn;
    if (!findExecutable(t.binary, process.env.PATH))
      throw new Error(`coturn's ${t.binary} not found (Debian package "coturn")`);
    const host = this.config.host;
    this.listenIps = t.listenIps.length ? t.listenIps : isAny(host) ? [] : [host];
    const bindIp = this.listenIps[0] ?? (host === '::' ? '::' : '0.0.0.0');
    const port = await freeBoth(bindIp, t.port);
    if (port === null) throw new Error(`turn.port ${t.port} is in use on ${bindIp} (TCP or UDP)`);
    this.port = port;
    if (t.transports.includes('tls')) {
      const tls = await freeBoth(bindIp, t.tlsPort);
      if (tls === null || tls === port) throw new Error(`turn.tlsPort ${t.tlsPort} is in use on ${bindIp}`);
      this.tlsPort = tls;
    }
    this.secret = t.secret || randomBytes(24).toString('base64url');
    this.dir = mkdtempSync(join(tmpdir(), 'zegoclient-coturn-'));
    let certFile = t.tlsCert;
    let keyFile = t.tlsKey;
    if (this.tlsPort && !certFile) {
      const names = [t.publicHost, ...this.listenIps].filter(Boolean);
      const pems = await selfSignedCert(names);
      certFile = join(this.dir, 'cert.pem');
      keyFile = join(this.dir, 'key.pem');
      writeFileSync(certFile, pems.cert);
      writeFileSync(keyFile, pems.key, { mode: 0o600 });
      this.log.warn(
        { spki: spkiHash(pems.cert) },
        'TURN over TLS uses a self-signed certificate (development only): browsers refuse it (allocation ' +
          'error 701) unless started with --ignore-certificate-errors-spki-list=<spki>; set turn.tlsCert and ' +
          'turn.tlsKey for real pages',
      );
    }
    // The relay carries the original SDK's players to the bridge too: its own addresses, when it has any.
    const bridge = !t.allowedPeerIps.length && bridgeRuns(this.config) ? bridgeIps(this.config) : [];
    const peers = [...new Set([...allowedPeers(t, this.config.janus), ...bridge])];
    const relayIp = relayIpOf(t, this.config.janus);
    const conf = join(this.dir, 'turnserver.conf');
    const readyIp = bindIp === '0.0.0.0' ? '127.0.0.1' : bindIp === '::' ? '::1' : bindIp;
    this.supervisor = new Supervisor(
      {
        name: 'coturn',
        prepare: () => {
          writeFileSync(
            conf,
            coturnConfig(t, {
              dir: this.dir,
              listenIps: this.listenIps,
              port: this.port,
              tlsPort: this.tlsPort,
              secret: this.secret,
              peers,
              relayIp,
              certFile,
              keyFile,
            }),
            { mode: 0o600 },
          );
          return { binary: t.binary, args: ['-c', conf] };
        },
        // Listening on TCP (UDP is bound before TCP in coturn's start; TLS right after).
        ready: async () =>
          (await portOpen(readyIp, this.port)) && (!this.tlsPort || (await portOpen(readyIp, this.tlsPort))),
        startTimeoutMs: t.startTimeoutMs,
        restartDelayMs: t.restartDelayMs,
        warnOn: /ERROR|CONFIG ERROR|cannot/i,
        cleanup: () => {
          if (this.dir) rmSync(this.dir, { recursive: true, force: true });
        },
      },
      this.log.child({ child: 'coturn' }),
    );
    await this.supervisor.start();
    this.log.info(
      {
        listen: this.listenIps.length ? this.listenIps : ['all'],
        port: this.port,
        tlsPort: this.tlsPort,
        peers,
      },
      'TURN: coturn ready',
    );
  }

  /**
   * The ICE fields for one media session of `idName` in `appid`, reached through `hostHeader` (the Host
   * the page used for /media: the TURN host unless turn.publicHost says otherwise). `viaProxy`: the session
   * came through the cloud proxy, and these are the only URLs it may use (TURN over TLS on the proxy's
   * port, relayed to our coturn): relay-only, whatever the app says.
   */
  grant(appid: number, idName: string, hostHeader: string, viaProxy?: string[]): IceGrant {
    const t = this.config.turn;
    let server: ExternalTurnServer | null = null;
    if (viaProxy) {
      if (!this.started) return NO_ICE;
      server = { urls: viaProxy, secret: this.secret };
    } else if (this.state === 'external') {
      // One server per user, the same every time (spreads users; the original takes one server).
      const h = createHash('sha256').update(`${appid}\n${idName}`).digest().readUInt32BE(0);
      server = t.servers[h % t.servers.length]!;
    } else if (this.started) {
      const host = t.publicHost || hostOf(hostHeader) || this.listenIps[0] || '';
      if (!host) return NO_ICE;
      server = { urls: turnUrls(host, this.ports, t.transports), secret: this.secret };
    }
    if (!server) return NO_ICE;
    const { username, credential } = turnCredential(server.secret, turnUser(appid, idName), t.credentialTtlS);
    const app = this.config.apps.find((a) => a.appid === appid);
    const relayOnly = !!viaProxy || (app?.relayOnly ?? t.relayOnly);
    const [first = '', second = ''] = server.urls;
    return {
      turn_server: first,
      stun_server: second,
      turn_username: username,
      turn_auth_key: credential,
      turn_urls: [...server.urls],
      ...(relayOnly ? { relay_only: 1 as const } : {}),
    };
  }

  async stop(): Promise<void> {
    await this.supervisor?.stop();
  }
}
