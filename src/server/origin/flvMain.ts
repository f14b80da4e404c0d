/**
 * The HTTP-FLV hub process of the embedded origin (see FlvHub.ts): `node flvMain.js <port>` listens on
 * 127.0.0.1 only (nginx proxies `/live/*.flv` to it); the publish key comes in FLV_PUBLISH_KEY. Started
 * and supervised by origin/Origin.ts through the one child supervisor.
 */
import { createServer } from 'node:http';
import { FlvHub } from './FlvHub';

const port = Number(process.argv[2]);
const key = process.env.FLV_PUBLISH_KEY ?? '';
if (!Number.isInteger(port) || port <= 0 || !key) {
  process.stderr.write('usage: FLV_PUBLISH_KEY=... node flvMain.js <port>\n');
  process.exit(2);
}
const hub = new FlvHub(key);
const server = createServer((req, res) => hub.handle(req, res));
server.requestTimeout = 0;
server.listen(port, '127.0.0.1', () => process.stdout.write(`flv hub listening on 127.0.0.1:${port}\n`));
process.on('SIGTERM', () => process.exit(0));
