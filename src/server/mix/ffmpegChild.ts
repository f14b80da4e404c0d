/**
 * One ffmpeg child under the one supervisor (process/Supervisor.ts): restarted when it dies (a crashed mix
 * goes on), its arguments made anew before every run (the current layout and live inputs), and a
 * `restart()` for a new layout: the old process is stopped (SIGTERM, SIGKILL after 400 ms) and the new one
 * spawned at once, on the same input ports and to the same outputs.
 */
import type { Logger } from 'pino';
import { Supervisor } from '../process/Supervisor';

export class FfmpegChild {
  private readonly sup: Supervisor;
  private running = false;

  constructor(name: string, binary: string, args: () => string[], log: Logger, stdin = false) {
    this.sup = new Supervisor(
      {
        name,
        prepare: () => ({ binary, args: args(), stdin }),
        // Ready once spawned: probing waits on the inputs' first keyframes, which may take a while.
        startTimeoutMs: 5000,
        restartDelayMs: 500,
        maxRestartDelayMs: 5000,
        healthyRunMs: 10_000,
        // Decoding errors before an input's first keyframe are expected; anything else is worth a line.
        warnOn: /^(?!.*(Error while decoding|Invalid data found)).*(Error|Conversion failed)/,
      },
      log,
    );
  }

  get pid(): number | undefined {
    return this.sup.pid;
  }

  /** Times spawned (1 = never restarted). */
  get starts(): number {
    return this.sup.starts;
  }

  /**
   * Filter commands on ffmpeg's stdin, one line each. ffmpeg reads one command per 100 ms (its keyboard
   * poll), so they are spaced; false when no ffmpeg runs (the caller restarts it instead).
   */
  async command(lines: string[]): Promise<boolean> {
    for (const line of lines) {
      if (!this.sup.write(line)) return false;
      await new Promise((r) => setTimeout(r, 120));
    }
    return true;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.sup.start();
  }

  /** A new run with fresh arguments (a layout or input change). */
  async restart(): Promise<void> {
    if (!this.running) return this.start();
    await this.sup.stop();
    await this.sup.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.sup.stop();
  }
}
