/**
 * The media suites' server: the built CLI (`node dist/server/cli.js --config <tmp>`) as a child process,
 * with its own supervised Janus, inside the private network namespace the suite runs in
 * (scripts/netns.sh: a veth `janus0` at 127.0.0.2 that Janus may gather on). A separate process because
 * janode is ESM-only and cannot be imported inside jest's module sandbox; it is also how users run it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './browser';

export const JANUS_IP = '127.0.0.2';

export interface MediaServer {
  url: string;
  /** The server process's pid (a new one after a restart). */
  readonly pid: number;
  /**
   * SIGTERM, then a new server on the same port and config once the old one exited (after `gapMs`); it
   * resolves when the new one and its Janus are up, with how long the old one took to exit.
   */
  restart(gapMs?: number): Promise<{ exitMs: number }>;
  /** Last lines of the server's output (for failure messages). */
  output(): string;
  health(): Promise<Record<string, unknown> & { media: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** Fails with a clear message unless we run inside scripts/netns.sh. */
export function requireNetns(): void {
  const ifs = networkInterfaces();
  const ok = Object.values(ifs).some((l) => l?.some((a) => a.address === JANUS_IP));
  if (!ok)
    throw new Error(
      `no interface with ${JANUS_IP}: the media suites must run inside the network namespace ` +
        '(bash scripts/netns.sh npx jest --selectProjects media), see docs/deployment.md',
    );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startMediaServer(extra: Record<string, unknown> = {}): Promise<MediaServer> {
  requireNetns();
  const cli = join(ROOT, 'dist', 'server', 'cli.js');
  if (!existsSync(cli)) throw new Error(`built server missing: ${cli} (run "npm run build" first)`);
  const dir = mkdtempSync(join(tmpdir(), 'zego-media-test-'));
  const port = await freePort();
  const cfg = {
    host: '127.0.0.1',
    port,
    log: { level: 'warn' },
    janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP },
    ...extra,
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg));
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  const url = `http://${cfg.host}:${port}`;
  const health = async () =>
    (await (await fetch(`${url}/healthz`)).json()) as Awaited<ReturnType<MediaServer['health']>>;
  const launch = async (): Promise<ChildProcess> => {
    const c: ChildProcess = spawn(process.execPath, [cli, '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout!.on('data', keep);
    c.stderr!.on('data', keep);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`server exited (${c.exitCode}):\n${out.slice(-3000)}`);
      try {
        const h = await health();
        if (h.media?.janus === 'up') return c;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`server or Janus not up within 20 s:\n${out.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** SIGTERM; resolves with how long the process took to exit (SIGKILL after `killAfterMs`). */
  const terminate = (c: ChildProcess, killAfterMs = 8000) =>
    new Promise<number>((resolve) => {
      const t0 = Date.now();
      if (c.exitCode !== null || c.signalCode !== null) return resolve(0);
      const t = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
      c.once('exit', () => {
        clearTimeout(t);
        resolve(Date.now() - t0);
      });
      c.kill('SIGTERM');
    });
  let child = await launch();
  return {
    url,
    get pid() {
      return child.pid!;
    },
    output: () => out.slice(-4000),
    health,
    restart: async (gapMs = 0) => {
      const exitMs = await terminate(child);
      await new Promise((r) => setTimeout(r, gapMs));
      child = await launch();
      return { exitMs };
    },
    stop: async () => {
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface MediaSuite {
  server: MediaServer;
  browser: import('playwright-core').Browser;
  context: import('playwright-core').BrowserContext;
}

/** Registers beforeAll/afterAll that start the media server and one Chromium for the whole file. */
export function useMediaSuite(extra: Record<string, unknown> = {}): MediaSuite {
  const suite = {} as MediaSuite;
  beforeAll(async () => {
    suite.server = await startMediaServer(extra);
    const { launchChromium } = await import('./browser');
    suite.browser = await launchChromium();
    suite.context = await suite.browser.newContext();
  });
  afterAll(async () => {
    await suite.context?.close().catch(() => {});
    await suite.browser?.close().catch(() => {});
    await suite.server?.stop();
  });
  return suite;
}

/** One Janus of a node's pool, as /healthz shows it (`media.janusPool`). */
export interface PoolMember {
  up: boolean;
  legs: number;
  rooms: number;
  pid: number | null;
}

/**
 * A media suite over a pool of two supervised Janus (`janus.instances: 2`, plus `janus`), without TURN, the
 * origin or the relay; `pool()` reads the pool's members and its relay count from /healthz.
 */
export function useJanusPoolSuite(janus: Record<string, unknown> = {}): MediaSuite & {
  pool(): Promise<{ members: PoolMember[]; relays: number }>;
} {
  const suite = useMediaSuite({
    janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP, instances: 2, ...janus },
    turn: { enabled: false },
    origin: { enabled: false },
    relay: { all: false },
  });
  return Object.assign(suite, {
    async pool() {
      const m = (await suite.server.health()).media;
      return { members: m.janusPool as PoolMember[], relays: Number(m.janusRelays ?? 0) };
    },
  });
}
