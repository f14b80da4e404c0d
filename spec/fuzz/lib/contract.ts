/**
 * The contract the server owes every inbound frame (issue 7), as an oracle over what the test sent and
 * what came back. The expected echo is computed from the frame exactly as sent, with JSON.parse (the
 * same reading the server's parser gives it).
 *
 * Room socket /ws: a reply `{header: {Protocol: "rsp", cmd, seq}, body: {err_code}}` where cmd is the
 * request's header.cmd when it was a string (cut to 64 characters) and '' otherwise, seq the request's
 * header.seq when it was a safe non-negative integer and 0 otherwise, err_code 0 or a documented
 * ServerCode; or a close with a documented code.
 *
 * Media socket /media: `<Name>Rsp` (replyName) for every request of MEDIA_REQUESTS with the same seq
 * (0 unless a safe non-negative integer, as on /ws), body `{result, err_info?}` with a MediaResult; ErrorRsp for an unknown or
 * non-string cmd or an unparseable frame; nothing for acks; or a close with a documented code.
 *
 * Both: a frame nested deeper than any frame of the protocol (MAX_FRAME_DEPTH), or larger than
 * limits.maxFrameBytes, is not parsed: it is answered as unreadable, named by what a bounded scan of its
 * first bytes finds (scanRef) or by nothing.
 */
import { MAX_FRAME_BYTES } from '../../../src/protocol/constants';
import { CloseCode, ServerCode } from '../../../src/protocol/errors';
import { MAX_FRAME_DEPTH, scanRef, withinDepth } from '../../../src/server/gateway/FrameSocket';
import { MEDIA_ACKS, MediaResult, replyName } from '../../../src/protocol/media';
import { MEDIA_REQUESTS } from '../../../src/protocol/mediaSchema';
import type { Outcome, Received } from './sockets';

export const ROOM_CLOSE_CODES: readonly number[] = [
  CloseCode.TooBig,
  CloseCode.Flood,
  CloseCode.HeartbeatTimeout,
  CloseCode.Kickout,
  CloseCode.Malformed,
  CloseCode.LoginTimeout,
  CloseCode.SlowReader,
];
export const MEDIA_CLOSE_CODES: readonly number[] = [
  CloseCode.TooBig,
  CloseCode.Flood,
  CloseCode.Malformed,
  CloseCode.LoginTimeout,
  CloseCode.SlowReader,
  CloseCode.Idle,
];
const SERVER_CODES = new Set<number>(Object.values(ServerCode));
const MEDIA_RESULTS = new Set<number>(Object.values(MediaResult));

/** What went on the wire. */
export interface Sent {
  data: string | Buffer;
  binary: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object';

function parse(s: Sent): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(typeof s.data === 'string' ? s.data : s.data.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

const textOf = (s: Sent) => (typeof s.data === 'string' ? s.data : s.data.toString('utf8'));

/**
 * A text frame too deep, or too large (over limits.maxFrameBytes, the fuzz server's default), to be
 * parsed: how the server may name it (scanned from its first bytes, or not at all).
 */
function tooDeep(s: Sent): { cmd: string; seq: number } | null {
  if (s.binary) return null;
  const text = textOf(s);
  if (Buffer.byteLength(text) > MAX_FRAME_BYTES) return scanRef(text);
  return withinDepth(text, MAX_FRAME_DEPTH) ? null : scanRef(text);
}

function headerOf(s: Sent): Obj | null {
  const p = parse(s);
  if (!p.ok || !isObj(p.value)) return null;
  const h = (p.value as Obj).header;
  return isObj(h) ? h : null;
}

const clip = (t: string, n = 400) => (t.length > n ? `${t.slice(0, n)}…(${t.length} chars)` : t);

// ------------------------------------------------------------------------------------------------ room

interface RoomEcho {
  cmd: string[];
  seq: number[];
}

export function roomEcho(s: Sent): RoomEcho {
  const h = headerOf(s);
  const out: RoomEcho = { cmd: [''], seq: [0] };
  if (h) {
    if (typeof h.cmd === 'string') {
      // "Cut to 64 characters": UTF-16 units or code points, either reading is accepted.
      out.cmd = [h.cmd.slice(0, 64), [...h.cmd].slice(0, 64).join('')];
    }
    if (typeof h.seq === 'number' && Number.isSafeInteger(h.seq) && h.seq >= 0) out.seq = [h.seq];
  }
  // Binary frames are not the protocol: answering them as unreadable (cmd '', seq 0) is fine too.
  if (s.binary) {
    out.cmd.push('');
    out.seq.push(0);
  }
  const deep = tooDeep(s);
  if (deep) {
    out.cmd.push('', deep.cmd);
    out.seq.push(0, deep.seq);
  }
  return out;
}

/** null when the room answer honours the contract, else what is wrong. */
export function checkRoomAnswer(s: Sent, o: Outcome): string | null {
  if (o.kind === 'timeout') return 'no answer (reply or close) within the deadline';
  if (o.kind === 'close') {
    return ROOM_CLOSE_CODES.includes(o.code)
      ? null
      : `socket closed with code ${o.code} (${o.reason || 'no reason'}), not a documented close code`;
  }
  return checkRoomReply(roomEcho(s), o.frame);
}

export function checkRoomReply(want: RoomEcho, r: Received): string | null {
  const f = r.json;
  if (!isObj(f) || !isObj(f.header) || !isObj(f.body)) return `reply is not {header, body}: ${clip(r.text)}`;
  const h = f.header;
  if (h.Protocol !== 'rsp') return `reply header.Protocol is ${JSON.stringify(h.Protocol)}: ${clip(r.text)}`;
  if (!want.cmd.includes(h.cmd as string))
    return `reply cmd ${JSON.stringify(h.cmd)}, want ${JSON.stringify(want.cmd[0])}: ${clip(r.text)}`;
  if (!want.seq.includes(h.seq as number))
    return `reply seq ${JSON.stringify(h.seq)}, want ${want.seq[0]}: ${clip(r.text)}`;
  const code = f.body.err_code;
  if (typeof code !== 'number' || !SERVER_CODES.has(code))
    return `reply err_code ${JSON.stringify(code)} is not 0 or a documented code: ${clip(r.text)}`;
  return null;
}

// ----------------------------------------------------------------------------------------------- media

export type MediaAlt = { kind: 'none' } | { kind: 'reply'; cmd: string; seq: number };

export function mediaExpectations(s: Sent): MediaAlt[] {
  const unreadable: MediaAlt = { kind: 'reply', cmd: 'ErrorRsp', seq: 0 };
  const deep = tooDeep(s);
  const deepAlts: MediaAlt[] = [];
  if (deep) {
    deepAlts.push(unreadable, { kind: 'reply', cmd: 'ErrorRsp', seq: deep.seq });
    if ((MEDIA_REQUESTS as readonly string[]).includes(deep.cmd))
      deepAlts.push({ kind: 'reply', cmd: replyName(deep.cmd), seq: deep.seq });
  }
  const h = headerOf(s);
  if (!h) return [unreadable, ...deepAlts];
  const seq = typeof h.seq === 'number' && Number.isSafeInteger(h.seq) && h.seq >= 0 ? h.seq : 0;
  const cmd = typeof h.cmd === 'string' ? h.cmd : null;
  const alts: MediaAlt[] = [];
  if (cmd !== null && (MEDIA_ACKS as readonly string[]).includes(cmd)) alts.push({ kind: 'none' });
  else if (cmd !== null && (MEDIA_REQUESTS as readonly string[]).includes(cmd))
    alts.push({ kind: 'reply', cmd: replyName(cmd), seq });
  else {
    // The contract does not say which seq an ErrorRsp carries: the request's or 0.
    alts.push({ kind: 'reply', cmd: 'ErrorRsp', seq }, unreadable);
  }
  if (s.binary) alts.push(unreadable);
  return [...alts, ...deepAlts];
}

export function checkMediaReply(alts: MediaAlt[], r: Received): string | null {
  const f = r.json;
  if (!isObj(f) || !isObj(f.header) || !isObj(f.body)) return `reply is not {header, body}: ${clip(r.text)}`;
  const h = f.header;
  const replies = alts.filter((a): a is Extract<MediaAlt, { kind: 'reply' }> => a.kind === 'reply');
  if (!replies.length) return `an acknowledgement was answered: ${clip(r.text)}`;
  if (!replies.some((a) => a.cmd === h.cmd && a.seq === h.seq))
    return (
      `reply ${JSON.stringify(h.cmd)} seq ${JSON.stringify(h.seq)}, want ` +
      `${replies.map((a) => `${a.cmd} seq ${a.seq}`).join(' or ')}: ${clip(r.text)}`
    );
  const b = f.body;
  if (typeof b.result !== 'number' || !MEDIA_RESULTS.has(b.result))
    return `reply result ${JSON.stringify(b.result)} is not a MediaResult: ${clip(r.text)}`;
  if (b.err_info !== undefined && typeof b.err_info !== 'string')
    return `reply err_info is not a string: ${clip(r.text)}`;
  return null;
}

export function checkMediaClose(o: Extract<Outcome, { kind: 'close' }>): string | null {
  return MEDIA_CLOSE_CODES.includes(o.code)
    ? null
    : `socket closed with code ${o.code} (${o.reason || 'no reason'}), not a documented close code`;
}
