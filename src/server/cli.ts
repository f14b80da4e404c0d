#!/usr/bin/env node
/** `zegoclient-server [--config file.json] [--port N] [--host H]` */
import { loadConfig, startServer } from './index';
import { runTokenCli } from './tokenCli';

async function main(): Promise<void> {
  // `token` / `stream-params`: mint for a configured app and exit (./tokenCli.ts).
  const sub = process.argv[2];
  if (sub === 'token' || sub === 'stream-params') {
    process.exitCode = runTokenCli(sub, process.argv.slice(3), process.env, {
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
  const server = await startServer(config);
  const stop = () => {
    void server.close().then(() => process.exit(0));
    setTimeout(() => process.exit(1), 5000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main().catch((e: Error) => {
  console.error(`zegoclient-server failed to start: ${e.message}`);
  process.exit(1);
});
