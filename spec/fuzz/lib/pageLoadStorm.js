/**
 * The page-load storm's load generator (spec/fuzz/pageLoad.test.ts), in its own process so that its work
 * does not delay the test's bystander: `node pageLoadStorm.js <port> <pages> <slow 0|1> [jsTag mapTag]`.
 * Each page loads /ZegoClient.js then its map on a kept-alive connection of its own (brotli accepted, as
 * Chromium asks; with tags, as a reload: If-None-Match). Slow readers take 16 KiB every 50 ms. Reports
 * {ms, statuses, encodings, sizes, tags, bodies of the first page (base64), errors} over IPC.
 */
const { Agent, request } = require('node:http');

const [port, pages, slow, jsTag, mapTag] = process.argv.slice(2);
const ADDRESSES = ['127.0.0.70', '127.0.0.71', '127.0.0.72', '127.0.0.73'];

function get(path, agent, localAddress, tag) {
  return new Promise((resolve, reject) => {
    const headers = { 'accept-encoding': 'gzip, deflate, br', ...(tag ? { 'if-none-match': tag } : {}) };
    const req = request(
      { host: '127.0.0.1', port: Number(port), path, agent, localAddress, headers },
      (res) => {
        const chunks = [];
        const done = () =>
          resolve({
            status: res.statusCode,
            body: Buffer.concat(chunks),
            etag: res.headers.etag,
            encoding: res.headers['content-encoding'] || 'identity',
          });
        if (slow === '1') {
          res.pause();
          const tick = setInterval(() => {
            let got = 0;
            let c;
            while (got < 16384 && (c = res.read()) !== null) {
              chunks.push(c);
              got += c.length;
            }
          }, 50);
          res.on('end', () => {
            clearInterval(tick);
            done();
          });
        } else {
          res.on('data', (c) => chunks.push(c));
          res.on('end', done);
        }
        res.on('error', reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error('no answer in 120 s')));
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  const t0 = Date.now();
  const results = await Promise.all(
    Array.from({ length: Number(pages) }, async (_, i) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const from = ADDRESSES[i % ADDRESSES.length];
      try {
        const js = await get('/ZegoClient.js', agent, from, jsTag);
        const map = await get('/ZegoClient.js.map', agent, from, mapTag);
        return { js, map };
      } catch (e) {
        return { error: e.message };
      } finally {
        agent.destroy();
      }
    }),
  );
  const ok = results.filter((r) => !r.error);
  const count = (f) => {
    const m = {};
    for (const r of ok) m[f(r)] = (m[f(r)] || 0) + 1;
    return m;
  };
  return {
    ms: Date.now() - t0,
    statuses: count((r) => `${r.js.status}/${r.map.status}`),
    encodings: count((r) => `${r.js.encoding}/${r.map.encoding}`),
    sizes: count((r) => `${r.js.body.length}/${r.map.body.length}`),
    tags: ok[0] ? { js: ok[0].js.etag, map: ok[0].map.etag } : null,
    first: ok[0] ? { js: ok[0].js.body.toString('base64'), map: ok[0].map.body.toString('base64') } : null,
    errors: results
      .filter((r) => r.error)
      .map((r) => r.error)
      .slice(0, 5),
  };
}

main().then(
  (r) => process.send(r, () => process.exit(0)),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
