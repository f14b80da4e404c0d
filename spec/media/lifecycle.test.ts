/**
 * Janus dies with the server on every exit path (issue 7 item 8), checked in the process table: the built
 * CLI with its own Janus (inside scripts/netns.sh), then SIGTERM, SIGINT, SIGTERM while Janus is still
 * starting, SIGTERM before the CLI has even loaded, SIGKILL of node (only the kernel's parent-death signal
 * can act), an uncaught exception (injected through `node --require`: the server has no test-only hook),
 * the same without setpriv (only the exit hook can act), and a start that fails after Janus was spawned
 * (port taken). Each time every child the server spawned must be gone within 2 s: Janus and coturn (TURN,
 * spawned by default and checked to be a child of the server once up), the client-offer play bridge
 * (a Node worker, on in dev mode; checked by name too) and nginx (the cloud proxy, on in every case here,
 * one process, checked to be the server's child once up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/browser';
import { JANUS_IP, requireNetns } from '../helpers/mediaServer';

jest.setTimeout(60_000);

const CLI = join(ROOT, 'dist', 'server', 'cli.js');
const GONE_WITHIN_MS = 2000;

interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  /** Start time in clock ticks since boot: with the pid, names one process even if the pid is reused. */
  start: string;
  comm: string;
}

/** /proc/<pid>/stat, or null if there is no such process. */
function stat(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may hold spaces: the fields after it start at the last ')'.
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    start: rest[19]!,
  };
}

/** The live children of `ppid`. */
function childrenOf(ppid: number): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s && s.ppid === ppid) out.push(s);
  }
  return out;
}

/** Gone: no such process, another process under the same pid, or a zombie (it holds nothing but a pid). */
function isGone(p: ProcInfo): boolean {
  const now = stat(p.pid);
  return now === null || now.start !== p.start || now.state === 'Z';
}

interface Launched {
  child: ChildProcess;
  port: number;
  /** Every process seen as a child of the server since it was spawned (polled every 2 ms). */
  seen: Map<string, ProcInfo>;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  health(): Promise<{
    media: {
      janus: string;
      janusPid: number | null;
      turn: string;
      turnPid: number | null;
      bridgePid?: number | null;
    };
    proxy: { state: string; pid: number | null };
  }>;
  dir: string;
}

const launched: Launched[] = [];
afterEach(() => {
  // Whatever a failed test left behind.
  for (const l of launched.splice(0)) {
    if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
    for (const p of l.seen.values()) if (!isGone(p)) process.kill(p.pid, 'SIGKILL');
    rmSync(l.dir, { recursive: true, force: true });
  }
});

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

async function launch(
  opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; config?: object; port?: number } = {},
): Promise<Launched> {
  requireNetns();
  if (!existsSync(CLI)) throw new Error(`built server missing: ${CLI} (run "npm run build" first)`);
  const dir = mkdtempSync(join(tmpdir(), 'zego-lifecycle-test-'));
  const port = opts.port ?? (await freePort());
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      host: '127.0.0.1',
      port,
      log: { level: 'warn' },
      janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP },
      // The cloud proxy (nginx) is on in every case: it must die with the server like Janus and coturn.
      proxy: { enabled: true, port: 0 },
      ...opts.config,
    }),
  );
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const seen = new Map<string, ProcInfo>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal, at: Date.now() })),
  );
  // Watch the server's children from the first moment until it exits: a Janus spawned and orphaned
  // between two looks would escape, so look often.
  const watch = setInterval(() => {
    if (child.pid === undefined) return;
    // Keyed by pid and start time; refreshed, so comm is the last one seen (node, then setpriv, then janus).
    for (const c of childrenOf(child.pid)) seen.set(`${c.pid}:${c.start}`, c);
  }, 2);
  void exited.then(() => clearInterval(watch));
  const url = `http://127.0.0.1:${port}`;
  const l: Launched = {
    child,
    port,
    seen,
    dir,
    exited,
    output: () => out.slice(-4000),
    health: async () =>
      (await (await fetch(`${url}/healthz`)).json()) as Awaited<ReturnType<Launched['health']>>,
  };
  launched.push(l);
  return l;
}

/** Waits until the server answers /healthz with Janus and coturn up; returns Janus's pid. */
async function untilUp(l: Launched): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (l.child.exitCode !== null) throw new Error(`server exited (${l.child.exitCode}):\n${l.output()}`);
    try {
      const h = await l.health();
      if (
        h.media.janus === 'up' &&
        h.media.janusPid &&
        h.media.turn === 'up' &&
        h.media.turnPid &&
        h.proxy.state === 'up' &&
        h.proxy.pid
      ) {
        // coturn (spawned by default) and nginx (the cloud proxy), through the same supervisor, must die
        // on every path like Janus: each is the server's own child, one process (nginx without workers).
        const coturn = stat(h.media.turnPid);
        expect(coturn).toMatchObject({ ppid: l.child.pid, comm: 'turnserver' });
        expect(stat(h.proxy.pid)).toMatchObject({ ppid: l.child.pid, comm: 'nginx' });
        expect(childrenOf(h.proxy.pid)).toEqual([]);
        return h.media.janusPid;
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server or Janus not up within 20 s:\n${l.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves with how long after `t0` every process in `procs` was gone; throws after the limit. */
async function allGone(procs: ProcInfo[], t0: number, l: Launched): Promise<number> {
  for (;;) {
    if (procs.every(isGone)) return Date.now() - t0;
    if (Date.now() - t0 > GONE_WITHIN_MS) {
      const left = procs.filter((p) => !isGone(p)).map((p) => `${p.pid} (${stat(p.pid)?.comm})`);
      throw new Error(
        `still running ${GONE_WITHIN_MS} ms after the exit path: ${left.join(', ')}\n${l.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The running Janus (from /healthz) is the server's child and really Janus (setpriv exec'd it). */
function janusOf(l: Launched, pid: number): ProcInfo {
  const p = stat(pid);
  expect(p).not.toBeNull();
  expect(p!.ppid).toBe(l.child.pid);
  expect(p!.comm).toBe('janus');
  return p!;
}

const report: string[] = [];
afterAll(() => console.log(`children gone after:\n${report.join('\n')}`));

test.each([['SIGTERM'], ['SIGINT']] as const)(
  '%s after start: the server closes, exits 0, Janus is gone',
  async (sig) => {
    const l = await launch();
    const janus = janusOf(l, await untilUp(l));
    const t0 = Date.now();
    l.child.kill(sig);
    const ms = await allGone([janus, ...l.seen.values()], t0, l);
    const exit = await l.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    report.push(`  ${sig} after start: ${ms} ms (server exit ${exit.at - t0} ms)`);
  },
);

test('SIGTERM while Janus is still starting: the handler is already there, the server closes once started', async () => {
  const l = await launch();
  // The moment the server has a child (Janus being spawned, long before /healthz says it is up).
  const deadline = Date.now() + 15_000;
  while (l.seen.size === 0) {
    if (Date.now() > deadline || l.child.exitCode !== null) throw new Error(`no child seen:\n${l.output()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const t0 = Date.now();
  l.child.kill('SIGTERM');
  const exit = await l.exited;
  // Exit code 0: the signal was handled (a default SIGTERM death would be signal: 'SIGTERM').
  expect(exit).toMatchObject({ code: 0, signal: null });
  expect(l.seen.size).toBeGreaterThan(0);
  const ms = await allGone([...l.seen.values()], t0, l);
  report.push(`  SIGTERM during the start: ${ms} ms (server exit ${exit.at - t0} ms)`);
});

test.each([[30], [100], [250]])(
  'SIGTERM %i ms after the CLI was launched: nothing survives',
  async (delay) => {
    const l = await launch();
    await new Promise((r) => setTimeout(r, delay));
    const t0 = Date.now();
    l.child.kill('SIGTERM');
    const exit = await l.exited;
    // Before main() installed the handlers, node dies of the signal; after, it closes and exits 0.
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    const ms = await allGone([...l.seen.values()], t0, l);
    report.push(
      `  SIGTERM ${delay} ms after launch: ${l.seen.size} child(ren), ${ms} ms (${exit.signal ?? `exit ${exit.code}`})`,
    );
  },
);

test('SIGKILL of node: the kernel kills Janus (setpriv --pdeathsig)', async () => {
  const l = await launch();
  const janus = janusOf(l, await untilUp(l));
  const t0 = Date.now();
  l.child.kill('SIGKILL');
  const ms = await allGone([janus, ...l.seen.values()], t0, l);
  expect((await l.exited).signal).toBe('SIGKILL');
  report.push(`  SIGKILL of node: ${ms} ms`);
});

test.each([['SIGTERM'], ['SIGKILL']] as const)(
  'the bridge worker is a child of the server and is gone after %s of node',
  async (sig) => {
    const l = await launch();
    janusOf(l, await untilUp(l));
    // The worker starts beside the server (never holding its start up): wait for it, bounded.
    let pid: number | null | undefined;
    for (const end = Date.now() + 10_000; !pid && Date.now() < end;)
      pid = (await l.health()).media.bridgePid ?? (await new Promise((r) => setTimeout(r, 50)), null);
    expect(typeof pid).toBe('number');
    const bridge = stat(pid!);
    expect(bridge).not.toBeNull();
    expect(bridge!.ppid).toBe(l.child.pid);
    // setpriv exec'd node: the pid is the worker's own, running dist/server/bridge.js.
    expect(bridge!.comm).toBe('node');
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('bridge.js');
    const t0 = Date.now();
    l.child.kill(sig);
    const ms = await allGone([bridge!, ...l.seen.values()], t0, l);
    report.push(`  bridge worker, ${sig} of node: ${ms} ms`);
  },
);

/** A preload that turns SIGUSR2 into an uncaught exception inside the real server process. */
function crashPreload(dir: string): string {
  const file = join(dir, 'crash-on-sigusr2.js');
  writeFileSync(
    file,
    "process.on('SIGUSR2', () => setImmediate(() => { throw new Error('injected uncaught error'); }));\n",
  );
  return file;
}

test('an uncaught exception ends node: Janus is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zego-lifecycle-preload-'));
  try {
    const l = await launch({ nodeArgs: ['--require', crashPreload(dir)] });
    const janus = janusOf(l, await untilUp(l));
    const t0 = Date.now();
    l.child.kill('SIGUSR2');
    const ms = await allGone([janus, ...l.seen.values()], t0, l);
    expect((await l.exited).code).toBe(1);
    expect(l.output()).toMatch(/injected uncaught error/);
    report.push(`  uncaught exception: ${ms} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without setpriv (not on PATH): a warning, and the exit hook still kills Janus on SIGTERM and on an uncaught exception', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zego-lifecycle-preload-'));
  // Janus by its absolute path, and a PATH on which nothing is found (node itself is started by path).
  const env = { ...process.env, PATH: join(dir, 'empty-path') };
  const config = {
    janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP, binary: '/usr/bin/janus' },
    turn: { binary: '/usr/bin/turnserver' },
    proxy: { enabled: true, port: 0, binary: '/usr/sbin/nginx' },
  };
  try {
    for (const how of ['SIGTERM', 'uncaught'] as const) {
      const l = await launch({ nodeArgs: ['--require', crashPreload(dir)], env, config });
      const janus = janusOf(l, await untilUp(l));
      expect(l.output()).toMatch(/setpriv not found/);
      const t0 = Date.now();
      l.child.kill(how === 'SIGTERM' ? 'SIGTERM' : 'SIGUSR2');
      const ms = await allGone([janus, ...l.seen.values()], t0, l);
      expect((await l.exited).code).toBe(how === 'SIGTERM' ? 0 : 1);
      report.push(`  no setpriv, ${how}: ${ms} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a start that fails after Janus was spawned (port taken): exit 1, Janus is gone', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (blocker.address() as { port: number }).port;
    const l = await launch({ port });
    const exit = await l.exited;
    expect(exit.code).toBe(1);
    expect(l.output()).toMatch(/failed to start.*EADDRINUSE/);
    // Janus was started (the media plane comes up before the listener) and is gone.
    expect([...l.seen.values()].some((p) => p.comm === 'janus' || p.comm === 'setpriv')).toBe(true);
    const ms = await allGone([...l.seen.values()], exit.at, l);
    report.push(`  failed listen: ${ms} ms after the exit`);
  } finally {
    blocker.close();
  }
});
