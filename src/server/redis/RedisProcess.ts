/**
 * Our own redis-server (`redis.spawn`: tests, or one machine running several nodes): under the one child
 * supervisor (process/Supervisor.ts), with a config written to a temp dir (never /etc/redis, never the
 * Debian service): loopback only, a port and a unix socket in that dir, no persistence (the nodes rebuild
 * what their clients hold after a restart). Restarted at once if it dies, on the same port.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { freePort, Supervisor } from '../process/Supervisor';
import type { RedisConfig } from './redisConfig';

export class RedisProcess {
  private supervisor: Supervisor | null = null;
  private dir = '';
  port = 0;

  constructor(
    private readonly config: RedisConfig,
    private readonly log: Logger,
  ) {}

  /** The URL the nodes connect to. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.supervisor?.pid;
  }

  get starts(): number {
    return this.supervisor?.starts ?? 0;
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'zego-redis-'));
    this.port = this.config.port || (await freePort('127.0.0.1'));
    const conf = join(this.dir, 'redis.conf');
    writeFileSync(
      conf,
      [
        'bind 127.0.0.1',
        `port ${this.port}`,
        'protected-mode yes',
        'daemonize no',
        `dir ${this.dir}`,
        `unixsocket ${join(this.dir, 'redis.sock')}`,
        'unixsocketperm 700',
        'save ""',
        'appendonly no',
        'logfile ""',
        'loglevel warning',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    this.supervisor = new Supervisor(
      {
        name: 'redis',
        prepare: () => ({ binary: this.config.binary, args: [conf] }),
        // loglevel warning prints nothing when ready: the port answers.
        ready: () => pingOk(this.port),
        startTimeoutMs: 5_000,
        restartDelayMs: 200,
        // Not the overcommit advice: nothing here forks for a background save.
        warnOn: /# (?!WARNING Memory overcommit)(WARNING|Error)/,
        cleanup: () => rmSync(this.dir, { recursive: true, force: true }),
      },
      this.log.child({ child: 'redis' }),
    );
    await this.supervisor.start();
  }

  async stop(): Promise<void> {
    await this.supervisor?.stop();
  }
}

/** Redis answers PING on 127.0.0.1:port. */
function pingOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 500);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      clearTimeout(t);
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}
