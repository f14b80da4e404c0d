/**
 * Starts the client-offer play bridge when some player may use it (dev mode, or an app with
 * `clientOfferPlay`), with the worker's settings from the config. A bridge that cannot start leaves the
 * server running: offering players then get result 7 (no worker built) or a media-server error (a worker
 * that does not come up), and the log says why.
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

export function startBridge(
  config: ResolvedConfig,
  backend: MediaBackend,
  log: Logger,
): BridgeService | null {
  const b = config.bridge;
  if (!bridgeRuns(config)) return null;
  let proc: BridgeProcess;
  try {
    proc = new BridgeProcess(bridgeWorkerConfig(config), b, log);
  } catch (e) {
    log.error(`client-offer play unavailable (offering players get result 7): ${(e as Error).message}`);
    return null;
  }
  // Not awaited: the worker's start never holds up the server's (a SIGTERM during the start must still
  // close within its bound). An offer that comes before the worker is up waits for it (BridgeService).
  proc.start().catch((e: Error) => log.error(`bridge worker not started: ${e.message}`));
  return new BridgeService(proc, backend, b, log);
}
