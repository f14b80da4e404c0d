/**
 * NodeCalls over Redis pub/sub (../NodeCalls.ts): each node SUBSCRIBEs to its own channel
 * `<prefix>nc:<node>` on the bus's subscriber connection; a request is PUBLISHed on the target's channel
 * and its answer on the asker's. PUBLISH says how many subscribers got the message: 0 means the target is
 * gone, and the call fails at once instead of waiting for its timeout.
 *
 * Bounds: `maxInFlight` calls waiting for answers from this node, `maxHandling` requests being handled at
 * once (past it the asker gets 'busy'), `maxBytes` per message (a larger one is dropped, and a request is
 * answered 'failed'), and every call's timeout.
 */
import type Redis from 'ioredis';
import { NodeCallError, type NodeCalls, type NodeHandler } from '../NodeCalls';

interface Request {
  t: 'q';
  id: number;
  from: string;
  kind: string;
  body: unknown;
  /** 1: no answer wanted (tell). */
  quiet?: 1;
}
interface Answer {
  t: 'a';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  failure?: 'failed' | 'busy';
  code?: number;
}

export interface NodeCallBounds {
  timeoutMs: number;
  maxInFlight: number;
  maxHandling: number;
  maxBytes: number;
}

export const NODE_CALL_BOUNDS: NodeCallBounds = {
  timeoutMs: 3000,
  maxInFlight: 256,
  maxHandling: 64,
  maxBytes: 64 * 1024,
};

export class RedisNodeCalls implements NodeCalls {
  private readonly handlers = new Map<string, NodeHandler>();
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }
  >();
  private nextId = 0;
  private handling = 0;
  private readonly chPrefix: string;
  private readonly own: string;

  constructor(
    private readonly cmd: Redis,
    private readonly sub: Redis,
    readonly node: string,
    prefix: string,
    private readonly bounds: NodeCallBounds = NODE_CALL_BOUNDS,
    private readonly onBad: (why: string) => void = () => {},
  ) {
    this.chPrefix = `${prefix}nc:`;
    this.own = this.chPrefix + node;
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.own) this.onMessage(text);
    });
  }

  /** Starts listening on this node's channel (before the node advertises itself). */
  async start(): Promise<void> {
    await this.sub.subscribe(this.own);
  }

  /** Every call still waiting fails (shutdown). */
  close(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new NodeCallError('unreachable', 'this node is stopping'));
      this.pending.delete(id);
    }
  }

  handle(kind: string, fn: NodeHandler): void {
    this.handlers.set(kind, fn);
  }

  call(node: string, kind: string, body: unknown, timeoutMs = this.bounds.timeoutMs): Promise<unknown> {
    if (this.pending.size >= this.bounds.maxInFlight)
      return Promise.reject(new NodeCallError('busy', `${this.pending.size} calls to other nodes in flight`));
    const id = ++this.nextId;
    const text = JSON.stringify({ t: 'q', id, from: this.node, kind, body } satisfies Request);
    if (text.length > this.bounds.maxBytes)
      return Promise.reject(
        new NodeCallError('failed', `a ${kind} request over ${this.bounds.maxBytes} bytes`),
      );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NodeCallError('timeout', `node ${node} did not answer ${kind} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.cmd.publish(this.chPrefix + node, text).then(
        (n) => {
          if (n > 0 || !this.pending.has(id)) return;
          clearTimeout(timer);
          this.pending.delete(id);
          reject(new NodeCallError('unreachable', `node ${node} is not listening`));
        },
        (e: Error) => {
          if (!this.pending.delete(id)) return;
          clearTimeout(timer);
          reject(new NodeCallError('unreachable', `redis: ${e.message}`));
        },
      );
    });
  }

  tell(node: string, kind: string, body: unknown): void {
    const text = JSON.stringify({ t: 'q', id: 0, from: this.node, kind, body, quiet: 1 } satisfies Request);
    if (text.length > this.bounds.maxBytes) return this.onBad(`a ${kind} message over the size bound`);
    this.cmd.publish(this.chPrefix + node, text).catch(() => undefined);
  }

  private onMessage(text: string): void {
    if (text.length > this.bounds.maxBytes) return this.onBad('a node call over the size bound');
    let m: Request | Answer;
    try {
      m = JSON.parse(text) as Request | Answer;
    } catch {
      return this.onBad('a node call that is not JSON');
    }
    if (m?.t === 'a' && typeof m.id === 'number') return this.onAnswer(m);
    if (m?.t === 'q' && typeof m.id === 'number' && typeof m.from === 'string' && typeof m.kind === 'string')
      return void this.onRequest(m);
    this.onBad('a node call of no known shape');
  }

  private onAnswer(a: Answer): void {
    const p = this.pending.get(a.id);
    if (!p) return; // timed out already
    this.pending.delete(a.id);
    clearTimeout(p.timer);
    if (a.ok) p.resolve(a.value);
    else p.reject(new NodeCallError(a.failure ?? 'failed', String(a.error ?? 'refused'), a.code));
  }

  private async onRequest(q: Request): Promise<void> {
    const answer = (a: Omit<Answer, 't' | 'id'>) => {
      if (q.quiet) return;
      let text = JSON.stringify({ t: 'a', id: q.id, ...a });
      if (text.length > this.bounds.maxBytes)
        text = JSON.stringify({ t: 'a', id: q.id, ok: false, error: 'the answer is over the size bound' });
      this.cmd.publish(this.chPrefix + q.from, text).catch(() => undefined);
    };
    const fn = this.handlers.get(q.kind);
    if (!fn) return answer({ ok: false, error: `no handler for ${q.kind} on node ${this.node}` });
    if (this.handling >= this.bounds.maxHandling)
      return answer({ ok: false, failure: 'busy', error: `node ${this.node} is handling too many calls` });
    this.handling++;
    try {
      const value = await fn(q.body, q.from);
      answer({ ok: true, value: value === undefined ? null : value });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      answer({
        ok: false,
        error: (e as Error)?.message ?? String(e),
        ...(typeof code === 'number' ? { code } : {}),
      });
    } finally {
      this.handling--;
    }
  }
}
