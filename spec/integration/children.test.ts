/**
 * process/children.ts on its own: a child goes through setpriv (same pid, the binary exec'd), is in the
 * registry while it lives and leaves it when it exits; a missing binary is the usual spawn error; without
 * setpriv on PATH the child is spawned directly and a warning is logged once. The exit paths of a whole
 * server are in spec/media/lifecycle.test.ts.
 */
import { readFileSync } from 'node:fs';
import { findExecutable, liveChildPids, spawnChild } from '../../src/server/process/children';

jest.setTimeout(15_000);

const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

function quietLog() {
  const warnings: string[] = [];
  return { warnings, log: { warn: (_o: object, msg?: string) => warnings.push(String(msg)) } };
}

async function execd(pid: number, name: string): Promise<void> {
  // setpriv execs the binary: until then /proc shows setpriv under the same pid.
  const deadline = Date.now() + 5000;
  while (comm(pid) !== name) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} is still ${comm(pid)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('setpriv is required on this machine (Debian util-linux)', () => {
  const found = findExecutable('setpriv', process.env.PATH);
  if (!found) throw new Error('setpriv not found on PATH: install the Debian package util-linux');
  expect(found).toMatch(/\/setpriv$/);
});

test('through setpriv: the child keeps its pid, runs the binary, and is registered until it exits', async () => {
  const { log, warnings } = quietLog();
  const child = spawnChild('sleep', ['30'], { stdio: 'ignore' }, log);
  const pid = child.pid!;
  expect(pid).toBeGreaterThan(0);
  await execd(pid, 'sleep');
  expect(cmdline(pid)).toEqual([expect.stringMatching(/\/sleep$/), '30']);
  expect(liveChildPids()).toContain(pid);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  expect(liveChildPids()).not.toContain(pid);
  expect(warnings).toEqual([]);
});

test('a missing binary is the usual spawn error, never registered', async () => {
  const { log } = quietLog();
  const child = spawnChild('no-such-binary-zego', [], { stdio: 'ignore' }, log);
  const err = await new Promise<Error>((r) => child.once('error', r));
  expect(err.message).toMatch(/ENOENT/);
  expect(liveChildPids()).toEqual([]);
});

test('without setpriv on PATH: spawned directly, one warning for all children', async () => {
  const { log, warnings } = quietLog();
  const env = { ...process.env, PATH: '/nonexistent-dir' };
  const a = spawnChild('/bin/sleep', ['30'], { stdio: 'ignore', env }, log);
  const b = spawnChild('/bin/sleep', ['30'], { stdio: 'ignore', env }, log);
  expect(comm(a.pid!)).toBe('sleep');
  expect(cmdline(a.pid!)).toEqual(['/bin/sleep', '30']);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/setpriv not found/);
  expect(liveChildPids()).toEqual(expect.arrayContaining([a.pid, b.pid]));
  for (const c of [a, b]) c.kill('SIGKILL');
  await Promise.all([a, b].map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))));
});
