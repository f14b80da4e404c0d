#!/usr/bin/env node
/** `zegoclient-server [--config file.json] [--port N] [--host H]` */
import { loadConfig, startServer } from './index';

async function main(): Promise<void> {
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
