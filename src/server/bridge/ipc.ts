/**
 * The messages between the server and its bridge worker (a child process on a Node IPC channel): one
 * schema per request (the worker validates every message by type before it acts, with the schema kit the
 * wire protocol uses), the worker's replies and its events. Only signalling crosses this channel (SDP,
 * candidates, states); media never leaves the worker.
 *
 * Request `{id, cmd, body}` -> reply `{id, ok: true, body}` or `{id, ok: false, code, message}`;
 * events `{event, body}` (the worker's own news: a viewer connected or failed, a feed lost).
 */
import { MAX_SDP_BYTES } from '../../protocol/mediaSchema';
import { checkBody, s, type Infer } from '../../protocol/schema';

const id = s.int(1, Number.MAX_SAFE_INTEGER);

export const BRIDGE_REQUEST_SCHEMAS = {
  /** Janus's subscriber offer for a feed (one per publisher): the worker answers it. */
  feedOpen: s.object({ feedId: id, offer: s.str(MAX_SDP_BYTES, { prefix: 'v=0' }) }),
  feedClose: s.object({ feedId: id }),
  /** A page's recvonly offer to play a feed: the worker answers it (with its candidates). */
  viewerOpen: s.object({ viewerId: id, feedId: id, offer: s.str(MAX_SDP_BYTES) }),
  /** A page's candidate; an empty one is the end of candidates. */
  viewerCandidate: s.object({
    viewerId: id,
    candidate: s.str(1024),
    sdpMid: s.maybe(s.str(64)),
    sdpMLineIndex: s.maybe(s.int(0, 64)),
  }),
  viewerClose: s.object({ viewerId: id }),
  stats: s.object({}),
};

export type BridgeRequest = keyof typeof BRIDGE_REQUEST_SCHEMAS;
export type BridgeReqBody<K extends BridgeRequest> = Infer<(typeof BRIDGE_REQUEST_SCHEMAS)[K]>;

export interface BridgeCandidate {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
}

export interface BridgeStats {
  feeds: number;
  viewers: number;
  /** RTP packets forwarded to viewers, NACKed packets resent from the buffer, NACKs sent upstream, PLIs upstream. */
  packetsOut: number;
  resent: number;
  nacksUpstream: number;
  plisUpstream: number;
}

export interface BridgeReplies {
  feedOpen: { answer: string };
  feedClose: object;
  viewerOpen: { answer: string; candidates: BridgeCandidate[] };
  viewerCandidate: object;
  viewerClose: object;
  stats: BridgeStats;
}

/** Why a request failed: `codec` and `sdp` are the page's (a clear play error), the rest the bridge's. */
export type BridgeErrorCode = 'codec' | 'sdp' | 'limit' | 'feed' | 'bad' | 'internal';

export type BridgeReply =
  { id: number; ok: true; body: unknown } | { id: number; ok: false; code: BridgeErrorCode; message: string };

export interface BridgeEvents {
  /** The viewer's PeerConnection is up (ICE + DTLS): the page is about to see frames. */
  viewerUp: { viewerId: number };
  /** The viewer's PeerConnection failed or closed by itself. */
  viewerDown: { viewerId: number; why: string };
  /** The feed's subscription to Janus failed: its viewers must play again. */
  feedDown: { feedId: number; why: string };
}

export type BridgeEventMsg = {
  [K in keyof BridgeEvents]: { event: K; body: BridgeEvents[K] };
}[keyof BridgeEvents];

/** Settings the server hands its worker (environment ZEGO_BRIDGE_CONFIG, JSON). */
export interface BridgeWorkerConfig {
  /** UDP ports the worker's ICE binds, [min, max]. */
  portRange: [number, number];
  /** Addresses to gather host candidates on ([] = every non-internal interface). */
  ips: string[];
  /** TURN/STUN servers the worker's ICE may use ([] = none: no public STUN is ever contacted). */
  iceServers: { urls: string; username?: string; credential?: string }[];
  maxViewers: number;
  maxFeeds: number;
}

export const BRIDGE_CONFIG_ENV = 'ZEGO_BRIDGE_CONFIG';
/** What the worker prints once it listens on its IPC channel (the supervisor's readiness check). */
export const BRIDGE_READY_LINE = 'zegoclient bridge ready';

/** null when `msg` is a well-formed request, else what is wrong. */
export function checkRequest(msg: unknown): string | null {
  if (typeof msg !== 'object' || msg === null) return 'message must be an object';
  const m = msg as Record<string, unknown>;
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) return 'id must be an integer';
  if (typeof m.cmd !== 'string' || !Object.prototype.hasOwnProperty.call(BRIDGE_REQUEST_SCHEMAS, m.cmd))
    return 'unknown cmd';
  return checkBody(BRIDGE_REQUEST_SCHEMAS[m.cmd as BridgeRequest], m.body)?.message ?? null;
}
