import { ClientErrorCode, serverErrorMessage, type LegacyError } from '../../protocol/errors';

/** The core's error: carries the legacy `{code, msg}` and, for server errors, the server's err_code. */
export class ZegoError extends Error {
  /** Set on a request the send queue dropped silently (older than 10 s): no callback fires. */
  silent = false;
  constructor(
    readonly code: string,
    readonly msg: string,
    readonly serverCode?: number,
    /** The error reply's body (biz_channel puts `rsp_body` there). */
    readonly reply?: Record<string, unknown>,
  ) {
    super(msg);
  }
  /** Any failure as a ZegoError (an unexpected one is Unknown with its message). */
  static from(e: unknown): ZegoError {
    if (e instanceof ZegoError) return e;
    return new ZegoError(ClientErrorCode.Unknown, String((e as Error)?.message ?? e));
  }
  static server(errCode: number, message?: string, reply?: Record<string, unknown>): ZegoError {
    return new ZegoError(ClientErrorCode.Server, serverErrorMessage(errCode, message), errCode, reply);
  }
  toLegacy(): LegacyError {
    return { code: this.code, msg: this.msg };
  }
}
