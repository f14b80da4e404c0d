/**
 * The `turn` config section: defaults and validation (a bad field is named, an unknown key refused, as
 * for every section). What the fields mean: ResolvedConfig['turn'] in ../config.ts and docs/deployment.md.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ExternalTurnServer, ResolvedConfig, TurnTransport } from '../config';
import { bool, ConfigError, externalJanus, int, section } from '../configCheck';

type TurnConfig = ResolvedConfig['turn'];

export const TURN_DEFAULTS: TurnConfig = {
  enabled: true,
  binary: 'turnserver',
  listenIps: [],
  publicHost: '',
  port: 3478,
  tlsPort: 5349,
  // The original SDK takes the first two (turn_server, stun_server): UDP where it flows, else TLS, the
  // transport restrictive firewalls let through (443 behind the cloud proxy).
  transports: ['udp', 'tls', 'tcp'],
  relayIp: '',
  externalIp: '',
  relayPortRange: '49152-65535',
  allowedPeerIps: [],
  secret: '',
  realm: 'zegoclient',
  credentialTtlS: 24 * 3600,
  tlsCert: '',
  tlsKey: '',
  // Chromium holds one allocation per TURN URL and local address for each PeerConnection.
  userQuota: 60,
  totalQuota: 3000,
  maxBps: 0,
  bpsCapacity: 0,
  relayOnly: false,
  servers: [],
  startTimeoutMs: 5_000,
  restartDelayMs: 500,
};

const TRANSPORTS: readonly TurnTransport[] = ['udp', 'tcp', 'tls'];
/** What a coturn config line may carry without being cut or commented (no space, '#', quote). */
const CONF_SAFE = /^[\x21\x24-\x26\x28-\x7e]+$/;

function str(field: string, v: unknown, re?: RegExp, what = 'a string'): string {
  if (typeof v !== 'string' || (v !== '' && re && !re.test(v)))
    throw new ConfigError(field, `must be ${what}`);
  return v;
}

function ipList(field: string, v: unknown, ranges: boolean): string[] {
  const ok = (e: unknown) => {
    if (typeof e !== 'string') return false;
    const parts = ranges ? e.split('-') : [e];
    return parts.length <= 2 && parts.every((p) => isIP(p) !== 0);
  };
  if (!Array.isArray(v) || !v.every(ok))
    throw new ConfigError(field, `must be a list of IP addresses${ranges ? ' or ranges "a-b"' : ''}`);
  return v as string[];
}

function portRange(field: string, v: unknown): string {
  const m = /^(\d+)-(\d+)$/.exec(String(v));
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535)
    throw new ConfigError(field, 'must be "min-max" with 1 <= min <= max <= 65535');
  return String(v);
}

function servers(v: unknown): ExternalTurnServer[] {
  if (!Array.isArray(v)) throw new ConfigError('turn.servers', 'must be a list of {urls, secret}');
  return v.map((s: unknown, i) => {
    const f = `turn.servers[${i}]`;
    const given = section(f, s, { urls: [] as string[], secret: '' });
    if (
      !Array.isArray(given.urls) ||
      given.urls.length === 0 ||
      !given.urls.every((u) => typeof u === 'string' && /^turns?:[^\s,]{1,500}$/.test(u))
    )
      throw new ConfigError(`${f}.urls`, 'must be a non-empty list of turn: or turns: URLs');
    if (typeof given.secret !== 'string' || given.secret.length === 0)
      throw new ConfigError(`${f}.secret`, "must be the server's static-auth-secret");
    return { urls: [...given.urls], secret: given.secret };
  });
}

/** Validates the `turn` section; `janus` decides whether the relay's peers can be derived. */
export function resolveTurn(given: unknown, janus: ResolvedConfig['janus']): TurnConfig {
  const t = section('turn', given, TURN_DEFAULTS);
  bool('turn.enabled', t.enabled);
  str('turn.binary', t.binary);
  if (!t.binary) throw new ConfigError('turn.binary', 'must not be empty');
  ipList('turn.listenIps', t.listenIps, false);
  str(
    'turn.publicHost',
    t.publicHost,
    /^([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$|^[0-9a-fA-F:.]+$/,
    'a host name or an IP',
  );
  if (t.publicHost.includes(':') && isIP(t.publicHost) !== 6)
    throw new ConfigError('turn.publicHost', 'must be a host name or an IP');
  int('turn.port', t.port, 0, 65535);
  int('turn.tlsPort', t.tlsPort, 0, 65535);
  if (
    !Array.isArray(t.transports) ||
    t.transports.length === 0 ||
    !t.transports.every((x) => TRANSPORTS.includes(x)) ||
    new Set(t.transports).size !== t.transports.length
  )
    throw new ConfigError('turn.transports', `must list some of ${TRANSPORTS.join(', ')}, each once`);
  if (t.port !== 0 && t.port === t.tlsPort)
    throw new ConfigError('turn.tlsPort', 'must differ from turn.port');
  str('turn.relayIp', t.relayIp);
  if (t.relayIp && !isIP(t.relayIp)) throw new ConfigError('turn.relayIp', 'must be an IP address');
  str('turn.externalIp', t.externalIp);
  if (t.externalIp && !isIP(t.externalIp)) throw new ConfigError('turn.externalIp', 'must be an IP address');
  portRange('turn.relayPortRange', t.relayPortRange);
  ipList('turn.allowedPeerIps', t.allowedPeerIps, true);
  str('turn.secret', t.secret, /^.{16,256}$/, 'empty or 16 to 256 characters');
  if (t.secret && !CONF_SAFE.test(t.secret))
    throw new ConfigError('turn.secret', 'must be printable ASCII without spaces, quotes or #');
  str('turn.realm', t.realm, /^[\w.-]{1,64}$/, 'a realm name (letters, digits, . _ -)');
  if (!t.realm) throw new ConfigError('turn.realm', 'must not be empty');
  int('turn.credentialTtlS', t.credentialTtlS, 60, 7 * 24 * 3600);
  str('turn.tlsCert', t.tlsCert);
  str('turn.tlsKey', t.tlsKey);
  if (!t.tlsCert !== !t.tlsKey) throw new ConfigError('turn.tlsCert', 'and turn.tlsKey go together');
  for (const k of ['tlsCert', 'tlsKey'] as const)
    if (t[k] && (!CONF_SAFE.test(t[k]) || (t.enabled && !existsSync(t[k]))))
      throw new ConfigError(`turn.${k}`, `must name a readable PEM file without spaces (got ${t[k]})`);
  int('turn.userQuota', t.userQuota, 1, 1_000_000);
  int('turn.totalQuota', t.totalQuota, 1, 10_000_000);
  int('turn.maxBps', t.maxBps, 0, 10_000_000_000);
  int('turn.bpsCapacity', t.bpsCapacity, 0, 1_000_000_000_000);
  bool('turn.relayOnly', t.relayOnly);
  t.servers = servers(t.servers);
  int('turn.startTimeoutMs', t.startTimeoutMs, 100, 600_000);
  int('turn.restartDelayMs', t.restartDelayMs, 10, 600_000);
  // The relay must reach nothing but the media servers: with external ones we cannot guess their IPs.
  if (
    t.enabled &&
    t.servers.length === 0 &&
    janus.enabled &&
    externalJanus(janus) &&
    !t.allowedPeerIps.length
  )
    throw new ConfigError(
      'turn.allowedPeerIps',
      "must list the media servers' IPs when janus.urls or janus.pool is set (the relay reaches nothing else); " +
        'or set turn.servers, or turn.enabled: false',
    );
  return {
    ...t,
    listenIps: [...t.listenIps],
    transports: [...t.transports],
    allowedPeerIps: [...t.allowedPeerIps],
  };
}
