/**
 * What a WebSocket holds of a message it has not finished: its frames so far (count) and their bytes.
 * ws keeps every fragment of a message until its last one (each as its own Buffer, ~100 bytes of
 * overhead apart from its payload), so 40 sockets each sending 16,000 one-byte fragments of a message that
 * never ends held +69 MiB. Here each socket's unfinished message counts against a small per-socket budget
 * (frames: `limits.maxFragments`; bytes: `limits.maxMessageBytes`) and a server-wide one
 * (`limits.maxUnfinishedFragments`, `limits.maxUnfinishedBytes`); the socket that goes past either is
 * closed 1009 at once, before ws has read the chunk that went past.
 *
 * Hand-written (a frame-header scan of the raw stream, RFC 6455 §5.2), because ws offers only part of it:
 * its `maxFragments` bounds one socket's count (and closes 1008, not 1009) and `maxPayload` one message's
 * bytes, but nothing sees what all sockets hold together, which the server-wide budget needs. The scan
 * reads only frame headers (2-14 bytes each) and skips payloads arithmetically; it runs before ws's own
 * 'data' listener on the same bytes. No extension is negotiated (permessage-deflate is off), so payload
 * bytes are the bytes held.
 */

/** The server-wide budget: what every socket's unfinished message holds together. */
export class UnfinishedPool {
  fragments = 0;
  bytes = 0;
  /** Sockets closed 1009 for going past a budget. */
  closed = 0;

  constructor(
    readonly maxFragments: number,
    readonly maxBytes: number,
  ) {}

  get over(): boolean {
    return this.fragments > this.maxFragments || this.bytes > this.maxBytes;
  }

  stats(): { fragments: number; bytes: number; closed: number } {
    return { fragments: this.fragments, bytes: this.bytes, closed: this.closed };
  }
}

export interface SocketBudget {
  maxFragments: number;
  maxBytes: number;
}

/** Largest header: 2 bytes, 8 of extended length, 4 of mask. */
const MAX_HEADER = 14;

export class FragmentMeter {
  private readonly header = Buffer.alloc(MAX_HEADER);
  private have = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  /** The current frame is a data frame (its payload counts); control frames never do. */
  private counting = false;
  /** The current frame ends its message. */
  private fin = false;
  /** The unfinished message: its frames and its bytes so far (what this socket holds in the pool). */
  private fragments = 0;
  private bytes = 0;
  private done = false;

  constructor(
    private readonly pool: UnfinishedPool,
    private readonly budget: SocketBudget,
    /** Past a budget: the socket must be closed 1009 (called once; the meter stops). */
    private readonly onOver: (why: string) => void,
  ) {}

  /** A chunk of the raw stream (a 'data' listener that runs before ws's). */
  onData = (chunk: Buffer): void => {
    let i = 0;
    while (i < chunk.length && !this.done) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        if (this.counting) this.add(0, n);
        if (this.remaining === 0) this.frameEnd();
        continue;
      }
      this.header[this.have++] = chunk[i++]!;
      const need = this.headerLength();
      if (need > 0 && this.have >= need) this.frameStart();
    }
  };

  /** Gives back what the socket holds (it closed). */
  dispose(): void {
    this.release();
    this.done = true;
  }

  /** The header's full length once its first two bytes are known; 0 before. */
  private headerLength(): number {
    if (this.have < 2) return 0;
    const len7 = this.header[1]! & 0x7f;
    const mask = this.header[1]! & 0x80 ? 4 : 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + mask;
  }

  private frameStart(): void {
    const b0 = this.header[0]!;
    const len7 = this.header[1]! & 0x7f;
    let length = len7;
    if (len7 === 126) length = this.header.readUInt16BE(2);
    else if (len7 === 127) {
      // Over 4 GiB: past any budget (ws refuses it too).
      length = this.header.readUInt32BE(2) > 0 ? Number.MAX_SAFE_INTEGER : this.header.readUInt32BE(6);
    }
    this.have = 0;
    const opcode = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.counting = opcode < 0x08;
    this.remaining = length;
    // A new data frame: one more fragment of an unfinished message unless it is the last (that one ends
    // the message: ws joins and frees it). Its declared length counts at once against the socket's bytes:
    // a frame announcing more than the budget is refused before its payload comes.
    if (this.counting) {
      if (this.bytes + length > this.budget.maxBytes) return this.over('message over limits.maxMessageBytes');
      if (!this.fin) this.add(1, 0);
    }
    if (!this.done && length === 0) this.frameEnd();
  }

  private frameEnd(): void {
    // The last frame of its message: the message is whole, ws hands it over; nothing is held any more.
    if (this.counting && this.fin) this.release();
  }

  private add(fragments: number, bytes: number): void {
    this.fragments += fragments;
    this.bytes += bytes;
    this.pool.fragments += fragments;
    this.pool.bytes += bytes;
    if (this.fragments > this.budget.maxFragments) this.over('message in over limits.maxFragments frames');
    else if (this.pool.over) this.over('unfinished messages over the server-wide budget');
  }

  private release(): void {
    this.pool.fragments -= this.fragments;
    this.pool.bytes -= this.bytes;
    this.fragments = 0;
    this.bytes = 0;
  }

  private over(why: string): void {
    if (this.done) return;
    this.dispose();
    this.pool.closed++;
    this.onOver(why);
  }
}
