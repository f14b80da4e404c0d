/** @jest-environment node */
/**
 * `zegoclient-server network`: docs/network.md's example output is exactly what the command prints for the
 * example config shown above it; the listing follows the config (TURN off, external TURN, dev mode); bad
 * arguments exit 2 with a message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../../src/server/config';
import { networkReport, runNetworkCli } from '../../../src/server/networkCli';

const DOC = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'network.md'), 'utf8');

function block(marker: string, fence: string): string {
  const at = DOC.indexOf(`<!-- ${marker} -->`);
  if (at < 0) throw new Error(`docs/network.md has no <!-- ${marker} --> block`);
  const start = DOC.indexOf('\n', DOC.indexOf(fence, at)) + 1;
  const end = DOC.indexOf(`\n${fence.replace(/\w+$/, '')}\n`, start);
  return DOC.slice(start, end + 1);
}

function run(argv: string[]) {
  let out = '';
  let err = '';
  const status = runNetworkCli(argv, {}, { out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err };
}

test('docs/network.md shows what the command prints for its example config', () => {
  const config = JSON.parse(block('network-example-config', '```json')) as object;
  expect(block('network-example-output', '````markdown')).toBe(networkReport(resolveConfig(config)));
});

test('docs/network.md shows what the command prints with the cloud proxy on: its one host and port', () => {
  const config = JSON.parse(block('network-proxy-example-config', '```json')) as object;
  const out = block('network-proxy-example-output', '````markdown');
  expect(out).toBe(networkReport(resolveConfig(config)));
  const proxy = out.slice(out.indexOf('## Cloud proxy'), out.indexOf('## Mini-program domains'));
  expect(proxy).toMatch(/^proxy\.example\.com$/m);
  expect(proxy).toMatch(/\| 443 +\| TCP +\| allow +\| the cloud proxy/);
  expect(proxy).not.toMatch(/UDP/);
});

test('the listing follows the config: TURN ports, the SFU range, external TURN, TURN off, dev mode', () => {
  const dev = networkReport(resolveConfig({ host: '127.0.0.1', port: 8080 }));
  expect(dev).toMatch(/\| 8080 +\| TCP +\| allow +\|/);
  expect(dev).toMatch(/\| 3478 +\| UDP +\| allow +\| TURN\sover\sUDP/);
  expect(dev).toMatch(/\| 5349 +\| TCP +\| allow +\| TURN\sover\sTLS/);
  expect(dev).toMatch(/\| 20000-20100 +\| UDP +\| allow/);
  expect(dev).toMatch(/\| request +\| https:\/\/127\.0\.0\.1 +\| the\sdev-mode\stoken\sservice\s\/token/);
  const ext = networkReport(
    resolveConfig({
      turn: { servers: [{ urls: ['turns:turn.example.net:443?transport=tcp'], secret: 's' }] },
    }),
    'rtc.example.org',
  );
  expect(ext).toMatch(/^turn\.example\.net$/m);
  expect(ext).toMatch(/^rtc\.example\.org$/m);
  expect(ext).toMatch(/\| 443 +\| TCP +\| allow +\| TURN\sover\sTLS/);
  expect(ext).not.toMatch(/\| 3478/);
  // Dev mode runs the bridge: its range is said, with nothing to open for browsers (relay-only pages).
  expect(dev).toContain('The bridge (pages on the original SDK playing) uses UDP 20200-20399 on the server');
  expect(networkReport(resolveConfig({ bridge: { enabled: false } }))).not.toContain('The bridge');
  const off = networkReport(resolveConfig({ turn: { enabled: false } }));
  expect(off).not.toContain('TURN over');
  expect(off).toContain('TURN is off in this configuration');
});

test('network: --help, bad arguments and a bad config exit with a message', () => {
  expect(run(['--help'])).toMatchObject({
    status: 0,
    out: expect.stringContaining('zegoclient-server network'),
  });
  expect(run(['--bogus'])).toMatchObject({
    status: 2,
    err: expect.stringContaining('unknown argument "--bogus"'),
  });
  expect(run(['--host'])).toMatchObject({ status: 2, err: expect.stringContaining('--host needs a value') });
  expect(run(['--host', 'a b'])).toMatchObject({ status: 2, err: expect.stringContaining('--host must be') });
  expect(run(['--config', '/nonexistent.json'])).toMatchObject({
    status: 2,
    err: expect.stringContaining('cannot be read'),
  });
  expect(run(['--host', 'x.example', '--host', 'y'])).toMatchObject({
    status: 2,
    err: expect.stringContaining('given twice'),
  });
  expect(run(['--host', 'x.example'])).toMatchObject({
    status: 0,
    out: expect.stringMatching(/^x\.example$/m),
  });
});
