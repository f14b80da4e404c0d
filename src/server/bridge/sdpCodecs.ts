/**
 * Reading the two offers the bridge answers, and matching them: Janus's subscriber offer (what the feed
 * carries: one codec per kind, the publisher's) and a page's recvonly offer (what it can decode). The
 * page's payload type for the feed's codec is what the bridge answers with, so it only rewrites the PT
 * byte of each packet. Pure functions, no werift: unit-tested on the offers Chromium and Janus write.
 */

export interface SdpCodec {
  pt: number;
  /** Upper-case encoding name: OPUS, VP8, H264... */
  name: string;
  clockRate: number;
  channels?: number;
  fmtp: string;
  rtcpFb: { type: string; parameter?: string }[];
}

export interface SdpSection {
  kind: string;
  mid: string;
  direction: string;
  /** Codecs in the m-line's order (its preference). */
  codecs: SdpCodec[];
}

export class SdpError extends Error {}

const MAX_SECTIONS = 16;

/** The m-sections of an offer; an offer a browser or Janus could not have written is an SdpError. */
export function parseSections(sdp: string): SdpSection[] {
  if (!sdp.startsWith('v=0')) throw new SdpError('the offer is not an SDP (no v=0)');
  const lines = sdp.split(/\r?\n/);
  const out: SdpSection[] = [];
  let cur: (SdpSection & { pts: number[]; byPt: Map<number, SdpCodec> }) | null = null;
  let sessionFingerprint = false;
  let fingerprint = false;
  let ufrag = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const m = /^m=(\w+) \d+ [\w/]+ ([\d ]+)$/.exec(line.trim());
      if (!m) throw new SdpError(`bad m-line: ${line.slice(0, 80)}`);
      if (out.length >= MAX_SECTIONS) throw new SdpError(`more than ${MAX_SECTIONS} m-sections`);
      const pts = m[2]!.trim().split(/\s+/).map(Number);
      cur = { kind: m[1]!, mid: '', direction: 'sendrecv', codecs: [], pts, byPt: new Map() };
      out.push(cur);
      continue;
    }
    if (line.startsWith('a=fingerprint:')) {
      if (cur) fingerprint = true;
      else sessionFingerprint = true;
    }
    if (line.startsWith('a=ice-ufrag:')) ufrag = true;
    if (!cur) continue;
    let r: RegExpExecArray | null;
    if ((r = /^a=mid:(\S+)/.exec(line))) cur.mid = r[1]!;
    else if ((r = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/.exec(line))) cur.direction = r[1]!;
    else if ((r = /^a=rtpmap:(\d+) ([\w-]+)\/(\d+)(?:\/(\d+))?/.exec(line))) {
      const pt = Number(r[1]);
      cur.byPt.set(pt, {
        pt,
        name: r[2]!.toUpperCase(),
        clockRate: Number(r[3]),
        channels: r[4] ? Number(r[4]) : undefined,
        fmtp: cur.byPt.get(pt)?.fmtp ?? '',
        rtcpFb: cur.byPt.get(pt)?.rtcpFb ?? [],
      });
    } else if ((r = /^a=fmtp:(\d+) (.*)$/.exec(line))) {
      const c = cur.byPt.get(Number(r[1]));
      if (c) c.fmtp = r[2]!.trim();
    } else if ((r = /^a=rtcp-fb:(\d+) ([\w-]+)(?: ([\w-]+))?/.exec(line))) {
      const c = cur.byPt.get(Number(r[1]));
      if (c) c.rtcpFb.push({ type: r[2]!, ...(r[3] ? { parameter: r[3] } : {}) });
    }
  }
  for (const sec of out) {
    const c = sec as typeof sec & { pts: number[]; byPt: Map<number, SdpCodec> };
    sec.codecs = c.pts.map((pt) => c.byPt.get(pt)).filter((x): x is SdpCodec => !!x);
    delete (c as Partial<typeof c>).pts;
    delete (c as Partial<typeof c>).byPt;
  }
  if (!out.some((x) => x.kind === 'audio' || x.kind === 'video'))
    throw new SdpError('the offer has no audio or video section');
  if (!ufrag) throw new SdpError('the offer has no ICE credentials (a=ice-ufrag)');
  if (!fingerprint && !sessionFingerprint) throw new SdpError('the offer has no DTLS fingerprint');
  if (out.some((x) => !x.mid)) throw new SdpError('every m-section needs an a=mid');
  return out;
}

const NOT_MEDIA = new Set(['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03', 'CN', 'TELEPHONE-EVENT']);

/** What a feed carries: Janus offers one media codec per kind (the publisher's), maybe with rtx. */
export interface FeedCodecs {
  audio?: SdpCodec;
  video?: SdpCodec;
}

export function feedCodecs(janusOffer: string): FeedCodecs {
  const out: FeedCodecs = {};
  for (const sec of parseSections(janusOffer)) {
    if (sec.kind !== 'audio' && sec.kind !== 'video') continue;
    if (sec.direction === 'inactive' || sec.direction === 'recvonly') continue;
    const c = sec.codecs.find((x) => !NOT_MEDIA.has(x.name));
    if (c && !out[sec.kind]) out[sec.kind] = c;
  }
  return out;
}

function fmtpParams(fmtp: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of fmtp.split(';')) {
    const [k, v] = part.split('=');
    if (k && v !== undefined) m.set(k.trim().toLowerCase(), v.trim());
  }
  return m;
}

/**
 * How well a page codec fits the feed's: 0 = no, higher = better. H.264 needs the same packetization
 * mode and a decoder of the same profile (42e0 constrained baseline and 4200 baseline decode each other's
 * streams, which use only the common subset; Chromium's OpenH264 encoder writes constrained baseline).
 */
function fit(feed: SdpCodec, page: SdpCodec): number {
  if (feed.name !== page.name || feed.clockRate !== page.clockRate) return 0;
  if (feed.name !== 'H264') return 2;
  const f = fmtpParams(feed.fmtp);
  const p = fmtpParams(page.fmtp);
  if ((f.get('packetization-mode') ?? '0') !== (p.get('packetization-mode') ?? '0')) return 0;
  const fp = (f.get('profile-level-id') ?? '42e01f').slice(0, 4).toLowerCase();
  const pp = (p.get('profile-level-id') ?? '42e01f').slice(0, 4).toLowerCase();
  if (fp === pp) return 3;
  const baseline = (x: string) => x === '42e0' || x === '4200' || x === '42c0';
  return baseline(fp) && baseline(pp) ? 2 : 0;
}

export interface ViewerPlan {
  /** Per kind the page receives: its m-section's mid and the page codec the feed's packets go out as. */
  audio?: { mid: string; codec: SdpCodec };
  video?: { mid: string; codec: SdpCodec };
}

function describe(c: SdpCodec): string {
  const pm = fmtpParams(c.fmtp).get('packetization-mode');
  return c.name === 'H264' ? `H264 (packetization-mode=${pm ?? 0})` : c.name;
}

/** Matches a page's offer to a feed; a kind the page wants and cannot decode is a clear `codec` error. */
export function planViewer(pageOffer: string, feed: FeedCodecs): ViewerPlan {
  const plan: ViewerPlan = {};
  const problems: string[] = [];
  for (const sec of parseSections(pageOffer)) {
    if (sec.kind !== 'audio' && sec.kind !== 'video') continue;
    if (sec.direction !== 'recvonly' && sec.direction !== 'sendrecv') continue;
    const kind = sec.kind;
    if (plan[kind]) continue;
    const want = feed[kind];
    if (!want) continue; // the stream has no such track: the page simply gets none
    let best: SdpCodec | undefined;
    let bestFit = 0;
    for (const c of sec.codecs) {
      const f = fit(want, c);
      if (f > bestFit) [best, bestFit] = [c, f];
    }
    if (best) plan[kind] = { mid: sec.mid, codec: best };
    else {
      const offered = [...new Set(sec.codecs.filter((c) => !NOT_MEDIA.has(c.name)).map(describe))];
      problems.push(
        `the stream's ${kind} is ${describe(want)}, the offer's ${kind} lists ${offered.join(', ') || 'nothing'}`,
      );
    }
  }
  if (problems.length) throw new CodecError(`no codec in common: ${problems.join('; ')}`);
  if (!plan.audio && !plan.video)
    throw new CodecError('the offer receives neither audio nor video of this stream');
  return plan;
}

export class CodecError extends Error {}

/** The a=candidate lines of an SDP with their m-section's mid and index (the legacy CandidateInfoPush). */
export function sdpCandidates(sdp: string): { candidate: string; sdpMid: string; sdpMLineIndex: number }[] {
  const out: { candidate: string; sdpMid: string; sdpMLineIndex: number }[] = [];
  let index = -1;
  let mid = '';
  const pending: string[] = [];
  const seen = new Set<string>();
  // With BUNDLE every m-section repeats the transport's candidates: each is given once, with the first.
  const flush = () => {
    for (const c of pending.splice(0))
      if (!seen.has(c)) {
        seen.add(c);
        out.push({ candidate: c, sdpMid: mid, sdpMLineIndex: index });
      }
  };
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      flush();
      index++;
      mid = '';
    } else if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
    else if (line.startsWith('a=candidate:') && index >= 0) pending.push(line.slice(2).trim());
  }
  flush();
  return out;
}
