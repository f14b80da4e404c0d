/**
 * What a room request gives back to the facade: its outcome with the seq the legacy callbacks carry.
 * As the original, that seq is the request's seq on the room socket (the last one sent when the request
 * could not go out); without any socket, a local counter's next value.
 */
import { ZegoError } from './ZegoError';

export interface Reply<T> {
  seq: number;
  body: T;
}

export class RequestFailure extends Error {
  constructor(
    readonly error: ZegoError,
    readonly seq: number,
  ) {
    super(error.msg);
  }

  /** The send queue dropped the request silently (older than 10 s): no callback fires. */
  get silent(): boolean {
    return this.error.silent;
  }
}

/** Settles `p` as a Reply / RequestFailure carrying `seq`. */
export function withSeq<T>(p: Promise<T>, seq: number): Promise<Reply<T>> {
  return p.then(
    (body) => ({ seq, body }),
    (e: unknown) => {
      throw new RequestFailure(ZegoError.from(e), seq);
    },
  );
}
