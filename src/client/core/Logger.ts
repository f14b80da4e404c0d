/**
 * The client's one logger: every line the shim writes goes through here, to the console at or above
 * `config.logLevel` and, when the page asked for remote logs, to a sink (RemoteLog, which ships batches
 * to our room server).
 *
 * Levels are 1.12.5's ENUM_LOG_LEVEL: 0 debug, 1 info, 2 warn, 3 error, 100 disable (99 "report" was the
 * original's own upload channel; any level above 3 prints nothing here). The original starts at info (1).
 * Its setLogLevel checked the *current* level instead of the argument, so `config` without a logLevel set
 * `undefined` and silenced it; we keep info instead, so an error a page should see (a throwing callback,
 * a refused argument) is still shown.
 *
 * Remote: 1.12.5 set the remote level to `remoteLogLevel`, or 0 when it was falsy, and shipped lines at
 * or above it to `logUrl` (or, without one, to ZEGO's own logger). We ship only when the page set
 * `remoteLogLevel` or `logUrl`, and only to the configured room server: the value of `logUrl` is ignored
 * (the shim contacts no host but its server).
 */

export const LogLevel = { Debug: 0, Info: 1, Warn: 2, Error: 3, Off: 100 } as const;

/** The level of a line (the four that print). */
export type LineLevel = 0 | 1 | 2 | 3;

export interface LogLine {
  level: LineLevel;
  /** ms since the epoch (the platform clock). */
  time: number;
  text: string;
}

const METHODS = ['debug', 'info', 'warn', 'error'] as const;

/** One argument as text: strings as they are, errors by name and message, objects as JSON. */
export function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (v && typeof v === 'object') {
    try {
      return JSON.stringify(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  return String(v);
}

function levelOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export class Logger {
  private consoleLevel: number = LogLevel.Info;
  private remoteLevel: number = LogLevel.Off;
  private sink: ((line: LogLine) => void) | null = null;

  constructor(
    private readonly now: () => number = () => Date.now(),
    private readonly prefix = '[ZegoClient]',
  ) {}

  /** `config()`'s logLevel, remoteLogLevel and logUrl (see the header for what each does). */
  configure(o: { logLevel?: unknown; remoteLogLevel?: unknown; logUrl?: unknown }): void {
    this.consoleLevel = levelOf(o.logLevel) ?? LogLevel.Info;
    const remote = levelOf(o.remoteLogLevel);
    if (remote !== undefined) this.remoteLevel = remote;
    else if (typeof o.logUrl === 'string' && o.logUrl !== '') this.remoteLevel = LogLevel.Debug;
    else this.remoteLevel = LogLevel.Off;
  }

  /** Whether any line can reach the remote sink (a remote level of 0-3). */
  get remoteWanted(): boolean {
    return this.remoteLevel <= LogLevel.Error;
  }

  /** Where remote lines go (null: nowhere). */
  setSink(sink: ((line: LogLine) => void) | null): void {
    this.sink = sink;
  }

  debug(...args: unknown[]): void {
    this.write(0, args);
  }

  info(...args: unknown[]): void {
    this.write(1, args);
  }

  warn(...args: unknown[]): void {
    this.write(2, args);
  }

  error(...args: unknown[]): void {
    this.write(3, args);
  }

  /** To the console only, never shipped (the remote sink's own troubles: no loop through itself). */
  local(level: LineLevel, ...args: unknown[]): void {
    if (level >= this.consoleLevel) globalThis.console?.[METHODS[level]]?.(this.prefix, ...args);
  }

  private write(level: LineLevel, args: unknown[]): void {
    this.local(level, ...args);
    if (this.sink && level >= this.remoteLevel)
      this.sink({ level, time: this.now(), text: args.map(textOf).join(' ') });
  }
}
