/**
 * The part of the `sdp` package (sdp 3.2.2, MIT, (c) 2017 Philipp Hancke) that webrtc-adapter 9 calls,
 * and nothing else: the global script's build aliases `sdp` to this file (tsup.config.ts).
 *
 * Why: the adapter imports `sdp` (a CommonJS object of ~50 helpers, ~10 KB minified) for four of them
 * (common_shim.js: parseCandidate, splitSections, parseMLine, matchPrefix) and re-exports the whole object
 * as `adapter.sdp`, a convenience our global script never exposes (global.ts imports the adapter for its
 * side effects only). A CommonJS object cannot be tree-shaken, so it cost ~3 KB of the 40 KiB gzip budget
 * for code that never runs. Every browser shim (Chrome, Firefox, Safari) stays; they call these functions.
 *
 * The bodies are the package's, unchanged but for types. spec/unit/client/adapterSdp.test.ts checks that
 * every `SDPUtils.x` the installed adapter calls is here, and that each function answers as the installed
 * package's does; if an adapter upgrade calls another helper, copy it from node_modules/sdp/sdp.js.
 */

/** One ICE candidate as sdp's parseCandidate returns it (extension attributes under their own names). */
export interface ParsedCandidate {
  foundation: string | undefined;
  component: string | undefined;
  protocol: string;
  priority: number;
  ip: string | undefined;
  address: string | undefined;
  port: number;
  type: string | undefined;
  relatedAddress?: string;
  relatedPort?: number;
  tcpType?: string;
  ufrag?: string;
  usernameFragment?: string;
  [extension: string]: string | number | undefined;
}

// Splits SDP into lines, dealing with both CRLF and LF.
function splitLines(blob: string): string[] {
  return blob
    .trim()
    .split('\n')
    .map((line) => line.trim());
}

// Splits SDP into sessionpart and mediasections. Ensures CRLF.
function splitSections(blob: string): string[] {
  const parts = blob.split('\nm=');
  return parts.map((part, index) => (index > 0 ? 'm=' + part : part).trim() + '\r\n');
}

// Returns lines that start with a certain prefix.
function matchPrefix(blob: string, prefix: string): string[] {
  return splitLines(blob).filter((line) => line.indexOf(prefix) === 0);
}

// Parses an ICE candidate line. Sample input:
// candidate:702786350 2 udp 41819902 8.8.8.8 60769 typ relay raddr 8.8.8.8
// rport 55996"
// Input can be prefixed with a=.
function parseCandidate(line: string): ParsedCandidate {
  let parts: string[];
  // Parse both variants.
  if (line.indexOf('a=candidate:') === 0) {
    parts = line.substring(12).split(' ');
  } else {
    parts = line.substring(10).split(' ');
  }

  const candidate: ParsedCandidate = {
    foundation: parts[0],
    component: ({ 1: 'rtp', 2: 'rtcp' } as Record<string, string>)[parts[1] as string] || parts[1],
    // As the package: a line without a protocol throws a TypeError here.
    protocol: (parts[2] as string).toLowerCase(),
    priority: parseInt(parts[3] as string, 10),
    ip: parts[4],
    address: parts[4], // address is an alias for ip.
    port: parseInt(parts[5] as string, 10),
    // skip parts[6] == 'typ'
    type: parts[7],
  };

  for (let i = 8; i < parts.length; i += 2) {
    const key = parts[i] as string;
    switch (key) {
      case 'raddr':
        candidate.relatedAddress = parts[i + 1];
        break;
      case 'rport':
        candidate.relatedPort = parseInt(parts[i + 1] as string, 10);
        break;
      case 'tcptype':
        candidate.tcpType = parts[i + 1];
        break;
      case 'ufrag':
        candidate.ufrag = parts[i + 1]; // for backward compatibility.
        candidate.usernameFragment = parts[i + 1];
        break;
      default: // extension handling, in particular ufrag. Don't overwrite.
        if (candidate[key] === undefined) {
          candidate[key] = parts[i + 1];
        }
        break;
    }
  }
  return candidate;
}

// Parses an m= line.
function parseMLine(mediaSection: string): {
  kind: string | undefined;
  port: number;
  protocol: string | undefined;
  fmt: string;
} {
  const lines = splitLines(mediaSection);
  const parts = (lines[0] as string).substring(2).split(' ');
  return {
    kind: parts[0],
    port: parseInt(parts[1] as string, 10),
    protocol: parts[2],
    fmt: parts.slice(3).join(' '),
  };
}

const SDPUtils = { splitLines, splitSections, matchPrefix, parseCandidate, parseMLine };
export default SDPUtils;
