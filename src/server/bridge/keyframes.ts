/**
 * Does this RTP packet start a keyframe? Read from the payload, as the RFCs lay it out, so the bridge can
 * keep the stream from its last keyframe for the viewers that join (Janus asks the publisher for a
 * keyframe at most once a second: a page joining within that second would otherwise wait for the next).
 * - VP8 (RFC 7741 §4.2-4.3): the first packet of a partition-0 frame (S=1, PID=0) whose VP8 payload
 *   header has P=0.
 * - H.264 (RFC 6184 §5): a NAL unit of type 5 (IDR slice) or 7 (SPS), alone, in a STAP-A (24) or at the
 *   start of an FU-A (28): Chromium sends SPS and PPS in a STAP-A just before each IDR.
 */

export function isKeyframeStart(codec: string, payload: Uint8Array): boolean {
  if (codec === 'VP8') return vp8(payload);
  if (codec === 'H264') return h264(payload);
  return false;
}

function vp8(p: Uint8Array): boolean {
  if (p.length < 1) return false;
  const b0 = p[0]!;
  const start = (b0 & 0x10) !== 0;
  const pid = b0 & 0x07;
  if (!start || pid !== 0) return false;
  let i = 1;
  if (b0 & 0x80) {
    if (p.length <= i) return false;
    const x = p[i++]!;
    if (x & 0x80) {
      if (p.length <= i) return false;
      i += p[i]! & 0x80 ? 2 : 1; // picture id: 15 bits with M set, else 7
    }
    if (x & 0x40) i++; // TL0PICIDX
    if (x & 0x30) i++; // TID / KEYIDX
  }
  return p.length > i && (p[i]! & 0x01) === 0;
}

const KEY_NALS = new Set([5, 7]);

function h264(p: Uint8Array): boolean {
  if (p.length < 2) return false;
  const type = p[0]! & 0x1f;
  if (KEY_NALS.has(type)) return true;
  if (type === 28) return (p[1]! & 0x80) !== 0 && KEY_NALS.has(p[1]! & 0x1f);
  if (type === 24) {
    // STAP-A: [header][size16][nal]... (bounded by the payload)
    for (let i = 1; i + 2 < p.length;) {
      const size = (p[i]! << 8) | p[i + 1]!;
      if (size === 0) return false;
      if (KEY_NALS.has(p[i + 2]! & 0x1f)) return true;
      i += 2 + size;
    }
  }
  return false;
}
