#!/usr/bin/env node
/**
 * `zegoclient-server [--config file.json] [--port N] [--host H]`
 *
 * Exit paths: SIGTERM / SIGINT close the server (no new connection accepted, every client told to
 * reconnect now with close 4005, Janus stopped) and exit 0 within about 0.8 s; a second signal, or a
 * close that takes over 1 s, exits 1 at once. The handlers are installed before the server
 * starts, so a stop that arrives while Janus is still starting closes the server as soon as the start
 * resolves. Children (Janus) die with the process on every path, SIGKILL included: see
 * process/children.ts.
 */
import { loadConfig, startServer, type RunningServer } from './index';
import { runNetworkCli } from './networkCli';
import { runTokenCli } from './tokenCli';
import { buildOpenApi } from './admin/openapi';

async function main(): Promise<void> {
  // `token` / `stream-params` / `proxy-token`: mint for a configured app and exit (./tokenCli.ts).
  const sub = process.argv[2];
  if (sub === 'token' || sub === 'stream-params' || sub === 'proxy-token') {
    process.exitCode = runTokenCli(sub, process.argv.slice(3), process.env, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
    return;
  }
  // `openapi`: the admin API's OpenAPI document (docs/openapi.json is this output).
  if (sub === 'openapi') {
    process.stdout.write(`${JSON.stringify(buildOpenApi(), null, 2)}\n`);
    return;
  }
  // `network`: the firewall whitelist and mini-program domains of this configuration (./networkCli.ts).
  if (sub === 'network') {
    process.exitCode = runNetworkCli(process.argv.slice(3), process.env, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
    return;
  }
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }

  let server: RunningServer | null = null;
  let stopping = false;
  const shutDown = (s: RunningServer) =>
    void s.close().then(
      () => process.exit(0),
      (e: Error) => {
        console.error(`zegoclient-server: close failed: ${e.message}`);
        process.exit(1);
      },
    );
  const stop = () => {
    if (stopping) {
      // A second Ctrl-C: do not wait (the exit hook still kills the children).
      process.exit(1);
    }
    stopping = true;
    // The close is bounded well under this (index.ts shutDown); this only guards against a bug.
    setTimeout(() => process.exit(1), 1000).unref();
    // During the start there is nothing to close yet: main closes it as soon as the start resolves.
    if (server) shutDown(server);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const started = await startServer(config);
  server = started;
  if (stopping) shutDown(started);
}

void main().catch((e: Error) => {
  console.error(`zegoclient-server failed to start: ${e.message}`);
  process.exit(1);
});
