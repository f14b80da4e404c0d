/**
 * Child processes that die with the server, on every exit path (Janus today; ffmpeg, coturn, nginx and
 * redis later use the same helper).
 *
 * Two mechanisms, because no single one covers every path:
 * - The kernel: each child is started through `setpriv --pdeathsig KILL -- <binary> args` (util-linux,
 *   present on Debian by default). setpriv sets PR_SET_PDEATHSIG and then execs the binary, so the pid
 *   stays the child's and the kernel sends it SIGKILL when the server's main thread dies, however it
 *   dies: SIGKILL, a signal without a handler, a crash. (PDEATHSIG fires on the death of the *thread*
 *   that forked; libuv spawns from the main thread, which lives as long as the process.) If setpriv is
 *   missing, a warning is logged once and children are spawned directly.
 * - Node: every live child is in a registry, and a `process.on('exit')` hook SIGKILLs them
 *   synchronously. That covers `process.exit()` and an uncaught exception even without setpriv.
 *
 * @example
 *   const child = spawnChild('janus', ['-C', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }, log);
 *   // child.pid is Janus's pid; the child is SIGKILLed if this process exits or dies.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Who a child runs as when the server runs as root (nginx of the cloud proxy): a user and group, with
 * only the capability to bind ports below 1024 kept. Applied by setpriv, which sets the parent-death
 * signal after the new ids (checked: the child still dies with the server).
 */
export interface RunAs {
  user: string;
  group: string;
}

/** What the helper logs (a pino logger fits). */
export interface ChildLog {
  warn(obj: object, msg?: string): void;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
let warnedNoSetpriv = false;

/** The path of an executable `name` on `pathVar` (or `name` itself when it has a slash); null if none. */
export function findExecutable(name: string, pathVar: string | undefined): string | null {
  const isExe = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return isExe(name) ? name : null;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExe(p)) return p;
  }
  return null;
}

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone: nothing to kill.
    }
  }
  live.clear();
}

/**
 * Spawns `binary args` so that it dies with this process (see the file header). Same arguments and result
 * as `child_process.spawn`; an `env` in the options is also the one searched for setpriv and the binary.
 */
export function spawnChild(
  binary: string,
  args: readonly string[],
  options: SpawnOptions,
  log: ChildLog,
  runAs?: RunAs,
): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killAllNow);
  }
  const pathVar = (options.env ?? process.env).PATH;
  const setpriv = findExecutable('setpriv', pathVar);
  // Only through setpriv when the binary exists: otherwise spawn it directly, so a missing binary is the
  // usual 'error' event (ENOENT, "cannot run ...") and not setpriv's exit status 127.
  const target = findExecutable(binary, pathVar);
  if (!setpriv && !warnedNoSetpriv) {
    warnedNoSetpriv = true;
    log.warn(
      { binary },
      'setpriv not found (Debian package util-linux): child processes are killed when the server exits ' +
        'normally, but would outlive a SIGKILLed server',
    );
  }
  if (runAs && !setpriv)
    log.warn({ binary, user: runAs.user }, 'setpriv not found: the child keeps running as root');
  const ids = runAs
    ? [
        `--reuid=${runAs.user}`,
        `--regid=${runAs.group}`,
        '--clear-groups',
        '--inh-caps=-all,+net_bind_service',
        '--ambient-caps=+net_bind_service',
      ]
    : [];
  const child =
    setpriv && target
      ? spawn(setpriv, ['--pdeathsig', 'KILL', ...ids, '--', target, ...args], options)
      : spawn(binary, [...args], options);
  if (child.pid !== undefined) {
    live.add(child);
    child.once('exit', () => live.delete(child));
  }
  // A failed spawn ('error', no pid) is never registered; its 'exit' may not come.
  child.once('error', () => live.delete(child));
  return child;
}

/** The pids of the children spawned here that have not exited yet (for tests). */
export function liveChildPids(): number[] {
  return [...live].map((c) => c.pid).filter((p): p is number => p !== undefined);
}
