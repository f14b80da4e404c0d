import { ClientErrorCode, serverErrorMessage, type LegacyError } from '../../protocol/errors';

/** The core's error: carries the legacy `{code, msg}` and, for server errors, the server's err_code. */
export class ZegoError extends Error {
  /** Set on a request the send queue dropped silently (older than 10 s): no callback fires. */
  silent = false;
  constructor(
    readonly code: string,
    readonly msg: string,
    readonly serverCode?: number,
  ) {
    super(msg);
  }
  static server(errCode: number, message?: string): ZegoError {
    return new ZegoError(ClientErrorCode.Server, serverErrorMessage(errCode, message), errCode);
  }
  toLegacy(): LegacyError {
    return { code: this.code, msg: this.msg };
  }
}
