/**
 * SDP munging, as the original did before setLocalDescription / sending: keep one video codec family
 * (H.264 by default, or VP8, with their RTX), cap the bitrate with `b=AS` (`b=TIAS` for Firefox), and
 * set Opus parameters. Pure string functions, unit-tested.
 */

export type VideoCodec = 'H264' | 'VP8';

interface Section {
  lines: string[];
}

function split(sdp: string): { head: string[]; media: Section[] } {
  const lines = sdp.split(/\r\n|\n/).filter((l) => l.length > 0);
  const head: string[] = [];
  const media: Section[] = [];
  for (const l of lines) {
    if (l.startsWith('m=')) media.push({ lines: [l] });
    else if (media.length) media[media.length - 1]!.lines.push(l);
    else head.push(l);
  }
  return { head, media };
}

function join(head: string[], media: Section[]): string {
  return [...head, ...media.flatMap((m) => m.lines)].join('\r\n') + '\r\n';
}

/** Payload types of the video m-section mapped to their codec names ("VP8", "H264", "rtx", ...). */
export function videoPayloads(sdp: string): Map<string, string> {
  const out = new Map<string, string>();
  const { media } = split(sdp);
  const v = media.find((m) => m.lines[0]!.startsWith('m=video'));
  for (const l of v?.lines ?? []) {
    const m = /^a=rtpmap:(\d+) ([^/]+)\//.exec(l);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * Keeps only `codec` (and the RTX payloads that repair it) in every video m-section. If the SDP has no
 * such codec it is returned unchanged (the caller decides whether that is an error).
 */
export function keepVideoCodec(sdp: string, codec: VideoCodec): string {
  const { head, media } = split(sdp);
  let changed = false;
  for (const sec of media) {
    if (!sec.lines[0]!.startsWith('m=video')) continue;
    const names = new Map<string, string>();
    const apt = new Map<string, string>();
    for (const l of sec.lines) {
      const r = /^a=rtpmap:(\d+) ([^/]+)\//.exec(l);
      if (r) names.set(r[1]!, r[2]!.toUpperCase());
      const f = /^a=fmtp:(\d+) .*apt=(\d+)/.exec(l);
      if (f) apt.set(f[1]!, f[2]!);
    }
    const keep = new Set([...names].filter(([, n]) => n === codec).map(([pt]) => pt));
    if (keep.size === 0) continue;
    for (const [rtx, main] of apt) if (keep.has(main)) keep.add(rtx);
    const parts = sec.lines[0]!.split(' ');
    sec.lines[0] = [...parts.slice(0, 3), ...parts.slice(3).filter((pt) => keep.has(pt))].join(' ');
    sec.lines = sec.lines.filter((l) => {
      const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(l);
      return !m || keep.has(m[1]!);
    });
    changed = true;
  }
  return changed ? join(head, media) : sdp;
}

/** Sets a bandwidth cap (kbps) on every video m-section: `b=AS:kbps`, or `b=TIAS:bps` when `tias`. */
export function setVideoBitrate(sdp: string, kbps: number, tias = false): string {
  const { head, media } = split(sdp);
  for (const sec of media) {
    if (!sec.lines[0]!.startsWith('m=video')) continue;
    sec.lines = sec.lines.filter((l) => !/^b=(AS|TIAS):/.test(l));
    const at = sec.lines.findIndex((l) => l.startsWith('c=')) + 1 || 1;
    sec.lines.splice(at, 0, tias ? `b=TIAS:${Math.round(kbps * 1000)}` : `b=AS:${Math.round(kbps)}`);
  }
  return join(head, media);
}

/** Adds Opus fmtp parameters (e.g. maxaveragebitrate, stereo) to the Opus payload. */
export function setOpusParams(sdp: string, params: Record<string, number>): string {
  const { head, media } = split(sdp);
  for (const sec of media) {
    if (!sec.lines[0]!.startsWith('m=audio')) continue;
    const pt = sec.lines.map((l) => /^a=rtpmap:(\d+) opus\//i.exec(l)?.[1]).find(Boolean);
    if (!pt) continue;
    const i = sec.lines.findIndex((l) => l.startsWith(`a=fmtp:${pt} `));
    const extra = Object.entries(params).map(([k, v]) => `${k}=${v}`);
    if (i < 0) sec.lines.push(`a=fmtp:${pt} ${extra.join(';')}`);
    else {
      const kept = sec.lines[i]!.slice(`a=fmtp:${pt} `.length)
        .split(';')
        .filter((kv) => !(kv.split('=')[0]! in params));
      sec.lines[i] = `a=fmtp:${pt} ${[...kept, ...extra].join(';')}`;
    }
  }
  return join(head, media);
}

/** The SDP carries ICE candidates (half-trickle servers put theirs there). */
export function hasCandidates(sdp: string): boolean {
  return /\r?\na=candidate:/.test(sdp);
}
