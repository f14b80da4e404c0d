/**
 * The `bridge` section of the config (the client-offer play path: docs/deployment.md, "The bridge") and
 * its checks, kept apart from config.ts so that file stays a list of sections.
 */

export interface BridgeConfig {
  /** false: the worker is never started; an offering player gets result 7 whatever its app says. */
  enabled: boolean;
  /** The UDP ports the bridge's ICE binds, "min-max" (one per bridged player, one per feed). */
  portRange: string;
  /** Addresses the bridge gathers host candidates on; [] = janus.interface if set, else every non-internal one. */
  ips: string[];
  /** Bridged players at once, in all / per user (appid + idName). */
  maxViewers: number;
  maxViewersPerUser: number;
  startTimeoutMs: number;
  restartDelayMs: number;
}

export const BRIDGE_DEFAULTS: BridgeConfig = {
  enabled: true,
  portRange: '20200-20399',
  ips: [],
  maxViewers: 200,
  maxViewersPerUser: 8,
  startTimeoutMs: 10_000,
  restartDelayMs: 500,
};

type Fail = (field: string, problem: string) => never;

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Checks a merged `bridge` section; `fail` throws the config's own error naming the field. */
export function checkBridge(b: BridgeConfig, fail: Fail): BridgeConfig {
  if (typeof b.enabled !== 'boolean') fail('bridge.enabled', 'must be true or false');
  const range = /^(\d+)-(\d+)$/.exec(String(b.portRange));
  if (!range || Number(range[1]) < 1024 || Number(range[1]) >= Number(range[2]) || Number(range[2]) > 65535)
    fail('bridge.portRange', 'must be "min-max" with 1024 <= min < max <= 65535');
  if (
    !Array.isArray(b.ips) ||
    b.ips.length > 16 ||
    !b.ips.every((ip) => typeof ip === 'string' && IPV4.test(ip))
  )
    fail('bridge.ips', 'must be a list of at most 16 IPv4 addresses');
  const int = (
    k: 'maxViewers' | 'maxViewersPerUser' | 'startTimeoutMs' | 'restartDelayMs',
    min: number,
    max: number,
  ) => {
    const v = b[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      fail(`bridge.${k}`, `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  };
  int('maxViewers', 1, 100_000);
  int('maxViewersPerUser', 1, 10_000);
  int('startTimeoutMs', 100, 600_000);
  int('restartDelayMs', 10, 600_000);
  return b;
}

/** The port range as [min, max]. */
export function portRangeOf(b: BridgeConfig): [number, number] {
  const [min, max] = b.portRange.split('-').map(Number);
  return [min!, max!];
}

/** The bridge will run with this config: on, and some app may use it (dev mode: every app). */
export function bridgeRuns(c: {
  bridge: BridgeConfig;
  devMode: boolean;
  apps: { clientOfferPlay?: boolean }[];
  janus: { enabled: boolean };
}): boolean {
  return c.bridge.enabled && c.janus.enabled && (c.devMode || c.apps.some((a) => a.clientOfferPlay));
}

/** Where the bridge gathers: `bridge.ips`, else Janus's `interface`, else [] (every non-internal address). */
export function bridgeIps(c: { bridge: BridgeConfig; janus: { interface: string } }): string[] {
  return c.bridge.ips.length ? [...c.bridge.ips] : c.janus.interface ? [c.janus.interface] : [];
}
