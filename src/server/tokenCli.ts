/**
 * `zegoclient-server token`, `stream-params` and `proxy-token`: mint a login token, streamParams or a
 * cloud-proxy token for an app of a config file, for business-server developers and operators (README, docs/deployment.md).
 * Exit status 0 with the value on stdout; 2 with a clear message on stderr for bad arguments or config.
 */
import { utf8Length } from '../protocol/constants';
import { mintLoginToken } from './auth/loginToken';
import { mintProxyToken } from './auth/proxyToken';
import { serverSecretOf } from './auth/roomToken';
import { mintStreamParams } from './auth/streamToken';
import { mintToken04 } from './auth/token04';
import { readConfigFile, resolveConfig, type ResolvedConfig, type ServerOptions } from './config';

export const TOKEN_USAGE = `usage:
  zegoclient-server token --appid N --id-name NAME [--room R] [--ttl S] [--format 04|v1] [--config file.json]
  zegoclient-server stream-params --appid N --stream ID [--ttl S] [--config file.json]
  zegoclient-server proxy-token --appid N [--ttl S] [--config file.json]
The config file (--config or ZEGO_CONFIG) gives the app's appSign and serverSecret. --format defaults to
04 when the app has a serverSecret, v1 otherwise; --room (04 only) binds the token to one room; --ttl is
in seconds (default 3600, at most auth.maxTokenLifetimeS). proxy-token prints the token a page passes to
ZegoClient.setCloudProxyConfig (the cloud proxy checks it).`;

export type TokenCommand = 'token' | 'stream-params' | 'proxy-token';

export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

class UsageError extends Error {}

const FLAGS: Record<TokenCommand, readonly string[]> = {
  token: ['appid', 'id-name', 'room', 'ttl', 'format', 'config'],
  'stream-params': ['appid', 'stream', 'ttl', 'config'],
  'proxy-token': ['appid', 'ttl', 'config'],
};

function parseFlags(cmd: TokenCommand, argv: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=([\s\S]*))?$/.exec(argv[i]!);
    if (!m || !FLAGS[cmd].includes(m[1]!))
      throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}`);
    // `--id-name --config f` is a forgotten value, not the name "--config" (use --id-name=--x for that).
    const value = m[2] ?? (argv[i + 1]?.startsWith('--') ? undefined : argv[++i]);
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    if (m[1]! in flags) throw new UsageError(`--${m[1]} given twice`);
    flags[m[1]!] = value;
  }
  return flags;
}

function intFlag(name: string, v: string | undefined, min: number, max: number, def?: number): number {
  if (v === undefined) {
    if (def === undefined) throw new UsageError(`--${name} is required`);
    return def;
  }
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return Number(v);
}

function textFlag(name: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  if (utf8Length(v) > 256) throw new UsageError(`--${name} is longer than 256 bytes`);
  return v;
}

/** The config, and whether it fixes devAppSign (otherwise dev-mode secrets are random per start). */
function readConfig(file: string | undefined): { config: ResolvedConfig; fixedDevSign: boolean } {
  try {
    const options: ServerOptions = file ? readConfigFile(file) : {};
    const config = resolveConfig(options);
    return { config, fixedDevSign: !!options.devAppSign };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const DEV_RANDOM = `dev mode (no apps in the config) without devAppSign: the server picks a random dev secret at
each start, so a token minted here would not verify. Either set "devAppSign" (64 hex characters) in the
config file and start the server with that file, or ask the running server:
GET /token?app_id=N&id_name=NAME[&format=04&room_id=R] (dev mode only).`;

function appOf(config: ResolvedConfig, appid: number, fixedDevSign: boolean) {
  if (config.devMode) {
    if (!fixedDevSign) throw new UsageError(DEV_RANDOM);
    return undefined;
  }
  const app = config.apps.find((a) => a.appid === appid);
  if (!app) throw new UsageError(`appid ${appid} is not in the config's apps`);
  return app;
}

function token(flags: Record<string, string>, env: Record<string, string | undefined>): string {
  const appid = intFlag('appid', flags.appid, 1, 2 ** 32 - 1);
  const idName = textFlag('id-name', flags['id-name']);
  const roomId = flags.room === undefined ? undefined : textFlag('room', flags.room);
  const { config, fixedDevSign } = readConfig(flags.config ?? env.ZEGO_CONFIG);
  const ttlS = intFlag('ttl', flags.ttl, 1, config.auth.maxTokenLifetimeS, 3600);
  const app = appOf(config, appid, fixedDevSign);
  const serverSecret = serverSecretOf(config, appid) ?? '';
  const format = flags.format ?? (serverSecret ? '04' : 'v1');
  if (format === '04') {
    if (!serverSecret)
      throw new UsageError(`app ${appid} has no serverSecret in the config: it cannot take 04 tokens`);
    return mintToken04({ appid, idName, serverSecret, ttlS, roomId });
  }
  if (format !== 'v1') throw new UsageError(`--format must be 04 or v1 (got ${JSON.stringify(format)})`);
  if (roomId !== undefined)
    throw new UsageError('--room needs --format 04 (a v1 token is not bound to a room)');
  if (app && app.allowV1Token === false)
    throw new UsageError(`app ${appid} refuses v1 tokens (allowV1Token: false): use --format 04`);
  return mintLoginToken({ appid, appSign: app?.appSign ?? config.devAppSign, idName, ttlS });
}

function streamParams(
  flags: Record<string, string>,
  env: Record<string, string | undefined>,
  io: CliOutput,
): string {
  const appid = intFlag('appid', flags.appid, 1, 2 ** 32 - 1);
  const streamId = textFlag('stream', flags.stream);
  const { config, fixedDevSign } = readConfig(flags.config ?? env.ZEGO_CONFIG);
  const ttlS = intFlag('ttl', flags.ttl, 1, config.auth.maxTokenLifetimeS, 3600);
  const app = appOf(config, appid, fixedDevSign);
  if (config.devMode)
    io.err('note: a dev-mode server does not check streamParams (no app sets streamAuth)\n');
  else if (!app?.streamAuth)
    io.err(`note: app ${appid} does not set "streamAuth": true, so the server does not check streamParams\n`);
  return mintStreamParams({ appid, appSign: app?.appSign ?? config.devAppSign, streamId, ttlS });
}

function proxyToken(
  flags: Record<string, string>,
  env: Record<string, string | undefined>,
  io: CliOutput,
): string {
  const appid = intFlag('appid', flags.appid, 1, 2 ** 32 - 1);
  const { config, fixedDevSign } = readConfig(flags.config ?? env.ZEGO_CONFIG);
  const ttlS = intFlag('ttl', flags.ttl, 1, config.auth.maxTokenLifetimeS, 3600);
  const app = appOf(config, appid, fixedDevSign);
  if (!config.proxy.enabled) io.err('note: the config does not enable the cloud proxy (proxy.enabled)\n');
  return mintProxyToken({ appid, appSign: app?.appSign ?? config.devAppSign, ttlS });
}

const RUN: Record<
  TokenCommand,
  (f: Record<string, string>, e: Record<string, string | undefined>, io: CliOutput) => string
> = { token: (f, e) => token(f, e), 'stream-params': streamParams, 'proxy-token': proxyToken };

/** Runs a token subcommand; returns the exit status. */
export function runTokenCli(
  cmd: TokenCommand,
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliOutput,
): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${TOKEN_USAGE}\n`);
    return 0;
  }
  try {
    const flags = parseFlags(cmd, argv);
    io.out(`${RUN[cmd](flags, env, io)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`zegoclient-server ${cmd}: ${e.message}\n\n${TOKEN_USAGE}\n`);
    return 2;
  }
}
