/**
 * Requests from one node to another (many nodes): a seam. The room state is shared (RoomStore, Bus), but
 * some things live only where they are: a publisher's media session and its RTP are in the Janus of the
 * node its page reached. An operator's end-stream or a mix on another node must ask that node. The Redis
 * implementation (redis/RedisNodeCalls.ts) sends a request on the target node's channel and waits for its
 * answer on its own; without Redis there is one node and nothing to ask (no NodeCalls at all).
 *
 * Every call is bounded: in flight per node, in time (a node that does not answer in `timeoutMs` is
 * treated as not having done it), and in size. A handler's answer and its errors are JSON.
 */

/** Why a call to another node failed. */
export type NodeCallFailure =
  /** Nobody listens on the node's channel (it is gone, or never was). */
  | 'unreachable'
  /** No answer in time (the request may still have been carried out). */
  | 'timeout'
  /** Too many calls in flight from this node, or to the target. */
  | 'busy'
  /** The target has no handler for the kind, or its handler threw (the message says what). */
  | 'failed';

export class NodeCallError extends Error {
  constructor(
    readonly failure: NodeCallFailure,
    message: string,
    /** A handler's own error code, when it threw one (e.g. a ServerCode of a LiveError). */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** Answers a kind of request from another node. `from` is the asking node. Throws to refuse. */
export type NodeHandler = (body: unknown, from: string) => unknown;

export interface NodeCalls {
  /** This node's name. */
  readonly node: string;
  /** Asks `node` to run `kind` with `body`: its handler's answer, or a NodeCallError. */
  call(node: string, kind: string, body: unknown, timeoutMs?: number): Promise<unknown>;
  /** Tells `node` something without waiting for an answer (lost if it is gone). */
  tell(node: string, kind: string, body: unknown): void;
  /** This node answers `kind` with `fn` (one handler per kind). */
  handle(kind: string, fn: NodeHandler): void;
}

/** `{appid, streamId}` from another node's request body (a clear error for anything else). */
export function streamRefOf(body: unknown): { appid: number; streamId: string } {
  const b = body as { appid?: unknown; streamId?: unknown } | null;
  if (
    !b ||
    typeof b.appid !== 'number' ||
    !Number.isSafeInteger(b.appid) ||
    typeof b.streamId !== 'string' ||
    !b.streamId ||
    b.streamId.length > 256
  )
    throw new Error('expected {appid: integer, streamId: non-empty string of at most 256 characters}');
  return { appid: b.appid, streamId: b.streamId };
}
