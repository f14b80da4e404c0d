/** @jest-environment node */
/**
 * The global script's build gives webrtc-adapter our subset of the `sdp` package
 * (src/client/platform/adapterSdp.ts, aliased in tsup.config.ts). Two guards: every `sdp` helper the
 * installed adapter calls is in the subset (an adapter upgrade that calls another one fails here, not in a
 * browser), and each helper answers as the installed package's does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as realSdp from 'sdp';
import subset from '../../../src/client/platform/adapterSdp';
import { CHROME_ANSWER, CHROME_OFFER } from '../../fakes/FakeMedia';

const ROOT = join(__dirname, '..', '..', '..');

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsFiles(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

/** `sdp` helpers the adapter's sources use, as `file: name`, read from the sources esbuild bundles. */
function adapterSdpCalls(): { file: string; name: string }[] {
  // esbuild takes the adapter's "module" entry (src/js/adapter_core.js) for the browser build.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/webrtc-adapter/package.json'), 'utf8')) as {
    module: string;
  };
  expect(pkg.module).toBe('./src/js/adapter_core.js');
  const calls: { file: string; name: string }[] = [];
  for (const file of jsFiles(join(ROOT, 'node_modules/webrtc-adapter/src/js'))) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/import\s+(?:\*\s+as\s+)?(\w+)\s+from\s+['"]sdp['"]/g)) {
      const local = m[1]!;
      for (const use of src.matchAll(new RegExp(`\\b${local}\\s*(?:\\.\\s*(\\w+)|\\[)`, 'g'))) {
        // A computed access (`SDPUtils[name]`) could reach any helper: the subset would not be enough.
        calls.push({ file: file.slice(ROOT.length + 1), name: use[1] ?? '[computed]' });
      }
    }
  }
  return calls;
}

test("every sdp helper webrtc-adapter calls is in the global script's subset", () => {
  const calls = adapterSdpCalls();
  // The adapter calls sdp (today: common_shim.js); if this count is 0 the scan above is broken.
  expect(calls.length).toBeGreaterThan(0);
  const missing = calls.filter((c) => typeof (subset as Record<string, unknown>)[c.name] !== 'function');
  expect(missing).toEqual([]);
});

const SDPS = [CHROME_OFFER, CHROME_ANSWER, CHROME_OFFER.replace(/\r\n/g, '\n'), '', 'v=0', '\nm=audio'];

const CANDIDATES = [
  'candidate:702786350 2 udp 41819902 8.8.8.8 60769 typ relay raddr 8.8.8.8 rport 55996',
  'a=candidate:1 1 UDP 2122260223 192.168.1.2 54321 typ host generation 0 ufrag abcd network-id 1',
  'candidate:3 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active generation 0 network-cost 50',
  'candidate:4 1 udp 1686052607 203.0.113.5 3478 typ srflx raddr 0.0.0.0 rport 0 generation 0 generation 1',
  'candidate:5 1 udp 100 ::1 1 typ host raddr',
  'candidate:6 3 udp 1 h 1 typ host',
];

describe('each helper answers as the sdp package does', () => {
  test.each(SDPS.map((s, i) => [i, s]))(
    'splitLines / splitSections / parseMLine / matchPrefix, sdp %i',
    (_i, sdp) => {
      expect(subset.splitLines(sdp)).toEqual(realSdp.splitLines(sdp));
      expect(subset.splitSections(sdp)).toEqual(realSdp.splitSections(sdp));
      for (const prefix of ['a=', 'a=max-message-size:', 'a=candidate:', 'm=', 'nothing']) {
        expect(subset.matchPrefix(sdp, prefix)).toEqual(realSdp.matchPrefix(sdp, prefix));
      }
      for (const section of realSdp.splitSections(sdp)) {
        expect(subset.parseMLine(section)).toEqual(realSdp.parseMLine(section));
      }
    },
  );

  test.each(CANDIDATES)('parseCandidate(%s)', (line) => {
    expect(subset.parseCandidate(line)).toEqual(realSdp.parseCandidate(line));
  });

  test('a candidate line without a protocol throws a TypeError in both', () => {
    expect(() => realSdp.parseCandidate('candidate:1 1')).toThrow(TypeError);
    expect(() => subset.parseCandidate('candidate:1 1')).toThrow(TypeError);
  });
});
