/**
 * The `network` subcommand of the built CLI (a new entry point): whatever arguments and config file it is
 * given, it prints the listing (exit 0) or one clear message (exit 2), never a stack trace, never a hang.
 * fast-check properties over argument lists and config files, against the real `node dist/server/cli.js`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CLI, requireBuild } from './lib/server';

jest.setTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), 'zego-fuzz-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function network(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'network', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

function expectClean(r: ReturnType<typeof network>): void {
  expect(r.signal).toBeNull();
  expect([0, 2]).toContain(r.status);
  if (r.status === 0) expect(r.out).toMatch(/^## Firewall whitelist|^usage:/);
  else expect(r.err).toMatch(/^zegoclient-server network: /);
  expect(r.err).not.toMatch(/\n\s+at .*\(/); // no stack trace
}

test('any argument list: the listing or one usage message', () => {
  requireBuild();
  const arg = fc.oneof(
    fc.constantFrom('--config', '--host', '--help', '-h', '--config=', '--host=', '--port', '--'),
    fc.string({ maxLength: 40 }).filter((s) => !s.includes('\0')),
  );
  fc.assert(
    fc.property(fc.array(arg, { maxLength: 5 }), (args) => expectClean(network(args))),
    { numRuns: 40, seed: 14 },
  );
});

test('any config file: the listing or the bad field named', () => {
  requireBuild();
  const value = fc.oneof(
    fc.integer(),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  );
  const turnKeys = [
    'enabled',
    'port',
    'tlsPort',
    'transports',
    'publicHost',
    'servers',
    'allowedPeerIps',
    'secret',
    'bogus',
  ];
  const config = fc.record(
    {
      host: fc.constantFrom('0.0.0.0', '127.0.0.1', 'rtc.example.com'),
      turn: fc.dictionary(fc.constantFrom(...turnKeys), value, { maxKeys: 3 }),
      janus: fc.record({ urls: fc.constantFrom([], ['ws://127.0.0.1:1']) }, { requiredKeys: [] }),
      proxy: fc.dictionary(
        fc.constantFrom('enabled', 'port', 'publicHost', 'publicPort', 'bogus'),
        fc.oneof(value, fc.constant(true)),
        { maxKeys: 3 },
      ),
      media: fc.record(
        { publicUrl: fc.constantFrom('', 'wss://x.example/media', 'nope') },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
  let n = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        config.map((c) => JSON.stringify(c)),
        fc.string({ maxLength: 60 }),
      ),
      (text) => {
        const file = join(dir, `c${n++}.json`);
        writeFileSync(file, text);
        const r = network(['--config', file]);
        expectClean(r);
        if (r.status === 2) expect(r.err).toMatch(/config: |cannot be read|not valid JSON/);
      },
    ),
    { numRuns: 40, seed: 14 },
  );
});
