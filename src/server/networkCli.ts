/**
 * `zegoclient-server network --config cfg.json [--host NAME]`: what a customer's IT department must allow
 * for this deployment, printed from the live configuration (docs/network.md explains it, and a test checks
 * that page against this output):
 * - the firewall whitelist: every host, port and protocol a browser reaches (the form of a vendor's
 *   "enterprise firewall" page: the hosts, then port / protocol / action rows);
 * - the mini-program domain list: request / socket / uploadFile / downloadFile domains.
 * Exit status 0 with the text on stdout; 2 with a message on stderr for bad arguments or config.
 */
import type { CliOutput } from './tokenCli';
import { bridgeRuns } from './bridgeConfig';
import { readConfigFile, resolveConfig, type ResolvedConfig } from './config';
import { externalJanus } from './configCheck';
import { turnUrls } from './turn/credentials';

export const NETWORK_USAGE = `usage:
  zegoclient-server network [--config file.json] [--host NAME]
Prints the firewall whitelist and the mini-program domain list for the configured deployment. --host is the
name browsers use for this server when the config does not say it (media.publicUrl, turn.publicHost).`;

class UsageError extends Error {}

interface Row {
  port: string;
  protocol: 'TCP' | 'UDP';
  what: string;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** The name browsers reach the server by: --host, media.publicUrl's host, turn.publicHost, host. */
function publicHost(config: ResolvedConfig, given: string | undefined): string {
  if (given) return given;
  if (config.media.publicUrl) return new URL(config.media.publicUrl).hostname;
  if (config.turn.publicHost) return config.turn.publicHost;
  return WILDCARD.has(config.host) ? '<this server>' : config.host;
}

/** host:port and transport of a turn(s): URL. */
function parseTurnUrl(url: string): { host: string; port: string; protocol: 'TCP' | 'UDP'; tls: boolean } {
  const m = /^(turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?/i.exec(url);
  const tls = m?.[1]?.toLowerCase() === 'turns';
  const transport = (m?.[4] ?? (tls ? 'tcp' : 'udp')).toLowerCase();
  return {
    host: m?.[2] ?? url,
    port: m?.[3] ?? (tls ? '5349' : '3478'),
    protocol: transport === 'tcp' ? 'TCP' : 'UDP',
    tls,
  };
}

/** A Markdown table with padded columns (as Prettier writes it, so docs/network.md can show it verbatim). */
function markdownTable(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function table(rows: Row[]): string[] {
  return markdownTable(
    ['destination port', 'protocol', 'action', 'what'],
    rows.map((r) => [r.port, r.protocol, 'allow', r.what]),
  );
}

/**
 * The cloud-proxy section: with the proxy on, pages that call setCloudProxyConfig need its one host and
 * TCP port and nothing else (signalling, TURN over TLS and the SDK script all go through it).
 */
function cloudProxy(config: ResolvedConfig, host: string): string[] {
  const p = config.proxy;
  if (!p.enabled) return ['## Cloud proxy', '', 'Not configured: every port above must be reachable.', ''];
  const name = p.publicHost || host;
  const port = String(p.publicPort || p.port || '(the port chosen at start)');
  const authority = `${name.includes(':') ? `[${name}]` : name}${port === '443' ? '' : `:${port}`}`;
  return [
    '## Cloud proxy',
    '',
    'Pages that call `ZegoClient.setCloudProxyConfig` send everything through the proxy (room and media signalling, TURN over TLS, the SDK script). For them the firewall needs only this host:',
    '',
    '```',
    name,
    '```',
    '',
    ...table([
      {
        port,
        protocol: 'TCP',
        what: 'the cloud proxy: wss signalling, TURN over TLS (all media), https (the SDK script)',
      },
    ]),
    '',
    `The page calls \`ZegoClient.setCloudProxyConfig([{ hostName: '${name}', port: ${/^\d+$/.test(port) ? port : 443} }], token, true)\` before \`new ZegoClient()\`, with a token minted by its business server (\`zegoclient-server proxy-token\`, docs/deployment.md). Mini-program platforms through the proxy: socket domain \`wss://${authority}\`, request domain \`https://${authority}\`.`,
    '',
  ];
}

/** The report, from a resolved config (pure: the docs test calls it too). */
export function networkReport(config: ResolvedConfig, hostFlag?: string): string {
  const host = publicHost(config, hostFlag);
  const signalling = config.media.publicUrl ? new URL(config.media.publicUrl) : null;
  const sigPort =
    signalling?.port || (signalling ? (signalling.protocol === 'wss:' ? '443' : '80') : String(config.port));
  const hosts = new Set<string>([host]);
  const rows: Row[] = [
    {
      port: sigPort,
      protocol: 'TCP',
      what: 'HTTP(S): the SDK script, room signalling /ws, media signalling /media',
    },
  ];
  const t = config.turn;
  const turnOn = t.enabled && config.janus.enabled;
  const turnRows: Row[] = [];
  if (turnOn) {
    const urls = t.servers.length
      ? t.servers.flatMap((s) => s.urls)
      : turnUrls(host, { port: t.port || 3478, tlsPort: t.tlsPort || 5349 }, t.transports);
    for (const u of urls) {
      const p = parseTurnUrl(u);
      hosts.add(p.host.replace(/^\[|\]$/g, ''));
      const what = p.tls
        ? 'TURN over TLS (media when UDP is blocked)'
        : `TURN over ${p.protocol} (media relay)`;
      if (!turnRows.some((r) => r.port === p.port && r.protocol === p.protocol && r.what === what))
        turnRows.push({ port: p.port, protocol: p.protocol, what });
    }
  }
  const mediaHost = config.janus.publicIp || (externalJanus(config.janus) ? '' : config.janus.interface);
  const mediaRows: Row[] = config.janus.enabled
    ? [
        {
          port: externalJanus(config.janus)
            ? "(the media servers' rtp_port_range)"
            : config.janus.rtpPortRange,
          protocol: 'UDP',
          what: `WebRTC media straight to the SFU${mediaHost ? ` (${mediaHost})` : ''}; without it, media goes through TURN`,
        },
      ]
    : [];
  if (mediaHost) hosts.add(mediaHost);
  const wss = signalling
    ? `${signalling.protocol === 'wss:' ? 'wss' : 'ws'}://${signalling.host}`
    : `wss://${host}`;
  const https = signalling
    ? `${signalling.protocol === 'wss:' ? 'https' : 'http'}://${signalling.host}`
    : `https://${host}`;
  const out = [
    '## Firewall whitelist',
    '',
    'Allow browsers to reach these hosts:',
    '',
    '```',
    ...hosts,
    '```',
    '',
    ...table([...rows, ...turnRows, ...mediaRows]),
    '',
    turnOn
      ? 'Minimum for a network that allows only TCP: the signalling port and one TURN TCP or TLS port (media then goes through TURN).'
      : 'TURN is off in this configuration: browsers must reach the SFU over UDP.',
    '',
    // The original SDK is relay-only: its players reach the bridge only through the TURN relay.
    ...(bridgeRuns(config)
      ? [
          `The bridge (pages on the original SDK playing) uses UDP ${config.bridge.portRange} on the server, ` +
            'reached only by the TURN relay: nothing more to allow for browsers.',
          '',
        ]
      : []),
    ...cloudProxy(config, host),
    '## Mini-program domains',
    '',
    ...markdownTable(
      ['server domain category', 'domain', 'what'],
      [
        ['socket', wss, 'room signalling /ws and media signalling /media'],
        config.devMode
          ? ['request', https, 'the dev-mode token service /token']
          : ['request', '(none)', 'login tokens come from your business server, not from this one'],
        ['uploadFile', '(none)', 'client logs travel on the room socket'],
        ['downloadFile', '(none)', 'the SDK downloads nothing'],
      ],
    ),
    '',
    'Mini-program platforms accept only https:// and wss:// domain names (no IP address): put TLS in front of the server (docs/deployment.md).',
  ];
  return out.join('\n') + '\n';
}

/** Runs `network`; returns the exit status. */
export function runNetworkCli(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliOutput,
): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${NETWORK_USAGE}\n`);
    return 0;
  }
  try {
    const flags: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
      const m = /^--(config|host)(?:=([\s\S]*))?$/.exec(argv[i]!);
      if (!m) throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}`);
      const value = m[2] ?? (argv[i + 1]?.startsWith('--') ? undefined : argv[++i]);
      if (value === undefined || value === '') throw new UsageError(`--${m[1]} needs a value`);
      if (m[1]! in flags) throw new UsageError(`--${m[1]} given twice`);
      flags[m[1]!] = value;
    }
    if (flags.host !== undefined && !/^[\w.-]{1,253}$|^[0-9a-fA-F:]{2,39}$/.test(flags.host))
      throw new UsageError(`--host must be a host name or an IP (got ${JSON.stringify(flags.host)})`);
    const file = flags.config ?? env.ZEGO_CONFIG;
    let config: ResolvedConfig;
    try {
      config = resolveConfig(file ? readConfigFile(file) : {});
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    io.out(networkReport(config, flags.host));
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`zegoclient-server network: ${e.message}\n\n${NETWORK_USAGE}\n`);
    return 2;
  }
}
