/**
 * Starts the client-offer play bridge when some player may use it (dev mode, or an app with
 * `clientOfferPlay`), with the worker's settings from the config. A bridge that cannot start leaves the
 * server running: offering players then get result 7, and the log says why.
 */
import type { Logger } from 'pino';
import type { BridgeWorkerConfig } from '../../bridge/ipc';
import { bridgeIps, bridgeRuns, portRangeOf } from '../../bridgeConfig';
import type { ResolvedConfig } from '../../config';
import type { MediaBackend } from '../MediaBackend';
import { BridgeProcess } from './BridgeProcess';
import { BridgeService } from './BridgeService';

export function bridgeWorkerConfig(config: ResolvedConfig): BridgeWorkerConfig {
  const b = config.bridge;
  return {
    portRange: portRangeOf(b),
    // Where Janus gathers, the bridge gathers too (unless told otherwise): the same reachable address.
    ips: bridgeIps(config),
    iceServers: [],
    maxViewers: b.maxViewers,
    maxFeeds: b.maxViewers,
  };
}

export async function startBridge(
  config: ResolvedConfig,
  backend: MediaBackend,
  log: Logger,
): Promise<BridgeService | null> {
  const b = config.bridge;
  if (!bridgeRuns(config)) return null;
  try {
    const proc = new BridgeProcess(bridgeWorkerConfig(config), b, log);
    const service = new BridgeService(proc, backend, b, log);
    await proc.start();
    return service;
  } catch (e) {
    log.error(`client-offer play unavailable (offering players get result 7): ${(e as Error).message}`);
    return null;
  }
}
