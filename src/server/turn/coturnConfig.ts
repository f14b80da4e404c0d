/**
 * What our coturn runs with: the relay's allowed peers (only the media servers) and the turnserver.conf
 * text. Pure functions, so tests read exactly what coturn is given.
 *
 * No open relay: every peer address is denied, then the media servers' addresses allowed (coturn checks
 * its allow list before its deny list). coturn refuses loopback peers before either list; when a media
 * server sits on a loopback address (Janus at 127.0.0.2 in the network-namespace recipe)
 * `allow-loopback-peers` is added, and the deny-all still keeps the relay off every other loopback
 * address. TCP relays (RFC 6062, which browsers never use) are off, so the relay cannot open a TCP
 * connection anywhere, not even to a media server's host.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ResolvedConfig } from '../config';
import { externalJanus } from '../configCheck';

/**
 * The peers the relay may reach: `turn.allowedPeerIps`, else Janus's own addresses (`interface`,
 * `publicIp`, the IPs and interface names of `iceEnforceList`), else every address of this host (a
 * spawned Janus gathers on all of them).
 */
export function allowedPeers(
  turn: ResolvedConfig['turn'],
  janus: ResolvedConfig['janus'],
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string[] {
  if (turn.allowedPeerIps.length) return [...turn.allowedPeerIps];
  const out = new Set<string>();
  if (janus.interface && isIP(janus.interface)) out.add(janus.interface);
  if (janus.publicIp) out.add(janus.publicIp);
  for (const raw of janus.iceEnforceList.split(',')) {
    const e = raw.trim();
    if (isIP(e)) out.add(e);
    else for (const a of interfaces[e] ?? []) out.add(a.address);
  }
  if (out.size === 0)
    for (const list of Object.values(interfaces))
      for (const a of list ?? []) if (!a.internal && !a.address.startsWith('fe80:')) out.add(a.address);
  return [...out];
}

/**
 * The address relayed media leaves from: `turn.relayIp`, else the spawned Janus's `interface` (so the
 * SFU answers a relay on its own interface: Janus binds its sockets to that interface, and in the
 * network-namespace recipe a reply from 127.0.0.2 towards any other loopback address would leave by the
 * veth and be lost), else coturn's choice (the address the client reached it on).
 */
export function relayIpOf(turn: ResolvedConfig['turn'], janus: ResolvedConfig['janus']): string {
  if (turn.relayIp) return turn.relayIp;
  return !externalJanus(janus) && isIP(janus.interface) ? janus.interface : '';
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

export interface CoturnRun {
  /** Where coturn keeps its pid file and (empty) user database. */
  dir: string;
  listenIps: string[];
  port: number;
  /** 0 = no TLS listener. */
  tlsPort: number;
  secret: string;
  peers: string[];
  /** '' = coturn's choice. */
  relayIp: string;
  certFile?: string;
  keyFile?: string;
}

/** The turnserver.conf for one run (coturn is started with `-c` on it: /etc/turnserver.conf is never read). */
export function coturnConfig(t: ResolvedConfig['turn'], run: CoturnRun): string {
  const [minPort, maxPort] = t.relayPortRange.split('-');
  const peerLoopback = run.peers.some((p) => p.split('-').some(isLoopback));
  const lines = [
    ...run.listenIps.map((ip) => `listening-ip=${ip}`),
    `listening-port=${run.port}`,
    run.tlsPort ? `tls-listening-port=${run.tlsPort}` : 'no-tls',
    // Browsers speak TURN over UDP, TCP and TLS, never DTLS.
    'no-dtls',
    run.relayIp ? `relay-ip=${run.relayIp}` : '',
    t.externalIp ? `external-ip=${t.externalIp}` : '',
    `min-port=${minPort}`,
    `max-port=${maxPort}`,
    'use-auth-secret',
    `static-auth-secret=${run.secret}`,
    `realm=${t.realm}`,
    'fingerprint',
    'stale-nonce=600',
    // No open relay (file header).
    'no-tcp-relay',
    'no-multicast-peers',
    peerLoopback ? 'allow-loopback-peers' : '',
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ...run.peers.map((p) => `allowed-peer-ip=${p}`),
    `user-quota=${t.userQuota}`,
    `total-quota=${t.totalQuota}`,
    t.maxBps ? `max-bps=${t.maxBps}` : '',
    t.bpsCapacity ? `bps-capacity=${t.bpsCapacity}` : '',
    run.tlsPort && run.certFile ? `cert=${run.certFile}` : '',
    run.tlsPort && run.keyFile ? `pkey=${run.keyFile}` : '',
    'no-tlsv1',
    'no-tlsv1_1',
    // Less for amplification and fingerprinting; nothing a browser uses.
    'no-rfc5780',
    'no-stun-backward-compatibility',
    'response-origin-only-with-rfc5780',
    'no-software-attribute',
    // No telnet CLI (its port would clash between instances), nothing under /var.
    'no-cli',
    `userdb=${run.dir}/turndb`,
    `pidfile=${run.dir}/turnserver.pid`,
    'log-file=stdout',
    'simple-log',
  ];
  return lines.filter(Boolean).join('\n') + '\n';
}
