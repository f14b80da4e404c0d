/**
 * The HTTP-FLV hub process of the embedded origin (see FlvHub.ts): `node flvMain.js <port>` listens on
 * 127.0.0.1 only (nginx proxies `/live/*.flv` to it); the publish key comes in FLV_PUBLISH_KEY. Started
 * and supervised by origin/Origin.ts through the one child supervisor.
 */
import { createServer } from 'node:http';
import { FlvHub } from './FlvHub';
import { RtpStitcher } from './RtpStitcher';

const port = Number(process.argv[2]);
const key = process.env.FLV_PUBLISH_KEY ?? '';
if (!Number.isInteger(port) || port <= 0 || !key) {
  process.stderr.write('usage: FLV_PUBLISH_KEY=... node flvMain.js <port>\n');
  process.exit(2);
}
const hub = new FlvHub(key);
const stitcher = new RtpStitcher();
const server = createServer((req, res) => {
  // POST /rtp/open?target=P&rtcp=P&host=H&key=K -> {port, rtcpPort}; POST /rtp/close?port=P&key=K (the mix's
  // RTP towards Janus, at H: 127.0.0.1 or the Janus's rtpHost).
  const u = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'POST' && u.pathname.startsWith('/rtp/') && u.searchParams.get('key') === key) {
    const n = Number(u.searchParams.get(u.pathname === '/rtp/open' ? 'target' : 'port'));
    if (!Number.isInteger(n) || n <= 0 || n > 65535) return void res.writeHead(400).end();
    if (u.pathname === '/rtp/close') {
      stitcher.close(n);
      return void res.writeHead(200).end('{}');
    }
    const rtcp = Number(u.searchParams.get('rtcp') ?? 0);
    const host = u.searchParams.get('host') || '127.0.0.1';
    if (!Number.isInteger(rtcp) || rtcp < 0 || rtcp > 65535 || !/^[\w.:-]{1,253}$/.test(host))
      return void res.writeHead(400).end();
    return void stitcher.open(n, host, rtcp).then(
      (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
      () => res.writeHead(500).end(),
    );
  }
  hub.handle(req, res);
});
server.requestTimeout = 0;
server.listen(port, '127.0.0.1', () => process.stdout.write(`flv hub listening on 127.0.0.1:${port}\n`));
process.on('SIGTERM', () => process.exit(0));
