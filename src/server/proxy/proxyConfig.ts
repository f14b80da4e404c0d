/**
 * The `proxy` config section (the cloud proxy: one TLS port in front of the signalling sockets and TURN,
 * docs/deployment.md "Cloud proxy"): defaults and validation, a bad field named, an unknown key refused,
 * as for every section. Off by default: `npm start` needs nothing of it.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ResolvedConfig } from '../config';
import { bool, ConfigError, int, section } from '../configCheck';

type ProxyConfig = ResolvedConfig['proxy'];

export const PROXY_DEFAULTS: ProxyConfig = {
  enabled: false,
  binary: 'nginx',
  listenIps: [],
  port: 443,
  publicHost: '',
  publicPort: 0,
  tlsCert: '',
  tlsKey: '',
  user: 'nobody',
  streamModule: '',
  workerConnections: 8192,
  startTimeoutMs: 5_000,
  restartDelayMs: 500,
};

/** What an nginx config line may carry without quoting (no space, ';', quote, brace, '#', '$'). */
const CONF_SAFE = /^[\w./@+,:=-]+$/;
const HOST_RE = /^([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$/;

function str(field: string, v: unknown): string {
  if (typeof v !== 'string') throw new ConfigError(field, 'must be a string');
  return v;
}

function file(field: string, v: unknown, enabled: boolean): string {
  const f = str(field, v);
  if (f && (!CONF_SAFE.test(f) || (enabled && !existsSync(f))))
    throw new ConfigError(field, `must name a readable file, without spaces or quotes (got ${f})`);
  return f;
}

/** Validates the `proxy` section against the rest (it relays TURN to the coturn the server spawns). */
export function resolveProxy(
  given: unknown,
  rest: Pick<ResolvedConfig, 'port' | 'janus' | 'turn'>,
): ProxyConfig {
  const p = section('proxy', given, PROXY_DEFAULTS);
  bool('proxy.enabled', p.enabled);
  if (!str('proxy.binary', p.binary)) throw new ConfigError('proxy.binary', 'must not be empty');
  if (!CONF_SAFE.test(p.binary)) throw new ConfigError('proxy.binary', 'must be a file name or path');
  if (!Array.isArray(p.listenIps) || !p.listenIps.every((ip) => typeof ip === 'string' && isIP(ip)))
    throw new ConfigError('proxy.listenIps', 'must be a list of IP addresses');
  int('proxy.port', p.port, 0, 65535);
  str('proxy.publicHost', p.publicHost);
  if (p.publicHost && !HOST_RE.test(p.publicHost) && isIP(p.publicHost) === 0)
    throw new ConfigError('proxy.publicHost', 'must be a host name or an IP');
  int('proxy.publicPort', p.publicPort, 0, 65535);
  file('proxy.tlsCert', p.tlsCert, p.enabled);
  file('proxy.tlsKey', p.tlsKey, p.enabled);
  if (!p.tlsCert !== !p.tlsKey) throw new ConfigError('proxy.tlsCert', 'and proxy.tlsKey go together');
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(str('proxy.user', p.user)))
    throw new ConfigError(
      'proxy.user',
      'must be a user name (nginx runs as it when the server runs as root)',
    );
  file('proxy.streamModule', p.streamModule, p.enabled);
  int('proxy.workerConnections', p.workerConnections, 64, 1_000_000);
  int('proxy.startTimeoutMs', p.startTimeoutMs, 100, 600_000);
  int('proxy.restartDelayMs', p.restartDelayMs, 10, 600_000);
  if (p.enabled) {
    // TURN through the proxy goes to our own coturn's TCP listener: nothing else is behind it.
    if (rest.janus.enabled && (!rest.turn.enabled || rest.turn.servers.length))
      throw new ConfigError(
        'proxy.enabled',
        'needs the coturn the server spawns (turn.enabled true, no turn.servers): media through the proxy is TURN over TLS relayed to it',
      );
    const taken: [number, string][] = [
      [rest.port, 'port'],
      [rest.turn.port, 'turn.port'],
      [rest.turn.tlsPort, 'turn.tlsPort'],
    ];
    for (const [port, name] of taken)
      if (p.port !== 0 && p.port === port)
        throw new ConfigError('proxy.port', `must differ from ${name} (${port})`);
  }
  return { ...p, listenIps: [...p.listenIps] };
}
