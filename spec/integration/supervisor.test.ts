/**
 * process/Supervisor.ts with real child processes (sh, sleep): readiness within a bound, an immediate
 * first restart then backoff, a healthy run resetting the backoff, SIGTERM then SIGKILL on stop, giving up
 * after maxRestarts, a missing binary, and `up`/`down`/`exit` events. Janus and coturn use this class; their
 * own suites (spec/media) check it against the real programs.
 */
import { Supervisor, type ChildSpec } from '../../src/server/process/Supervisor';

jest.setTimeout(20_000);

const quiet = { info() {}, warn() {}, error() {} };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function spec(over: Partial<ChildSpec>): ChildSpec {
  return {
    name: 'test-child',
    prepare: () => ({ binary: 'sleep', args: ['30'] }),
    startTimeoutMs: 2000,
    restartDelayMs: 300,
    ...over,
  };
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('ready when the check passes; the output is there for the check; stop ends the child', async () => {
  const sup = new Supervisor(
    spec({
      prepare: () => ({ binary: 'sh', args: ['-c', 'sleep 0.2; echo listening; exec sleep 30'] }),
      ready: (out) => out.includes('listening'),
    }),
    quiet,
  );
  const t0 = Date.now();
  await sup.start();
  expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  expect(sup.up).toBe(true);
  const pid = sup.pid!;
  expect(alive(pid)).toBe(true);
  await sup.stop();
  expect(alive(pid)).toBe(false);
  expect(sup.up).toBe(false);
});

test('not ready in time: the child is killed and start rejects with its output', async () => {
  const sup = new Supervisor(
    spec({
      prepare: () => ({ binary: 'sh', args: ['-c', 'echo booting; exec sleep 30'] }),
      ready: () => false,
      startTimeoutMs: 300,
    }),
    quiet,
  );
  await expect(sup.start()).rejects.toThrow(/not ready within 300 ms[\s\S]*booting/);
  await sup.stop();
});

test('a child that exits before it is ready fails the start with why', async () => {
  const sup = new Supervisor(
    spec({
      prepare: () => ({ binary: 'sh', args: ['-c', 'echo bad flag >&2; exit 3'] }),
      ready: () => false,
    }),
    quiet,
  );
  await expect(sup.start()).rejects.toThrow(/exited \(3\)[\s\S]*bad flag/);
  await sup.stop();
});

test('a missing binary fails the start and is not retried', async () => {
  const sup = new Supervisor(spec({ prepare: () => ({ binary: 'no-such-binary-zego', args: [] }) }), quiet);
  await expect(sup.start()).rejects.toThrow(/cannot run no-such-binary-zego/);
  await new Promise((r) => setTimeout(r, 400));
  expect(sup.starts).toBe(1);
  await sup.stop();
});

test('death: down and exit, an immediate restart, then backoff for a child that keeps dying', async () => {
  let prepared = 0;
  const sup = new Supervisor(
    spec({
      prepare: () => {
        prepared++;
        return { binary: 'sleep', args: ['30'] };
      },
      restartDelayMs: 400,
    }),
    quiet,
  );
  const events: string[] = [];
  sup.on('up', () => events.push('up'));
  sup.on('down', () => events.push('down'));
  sup.on('exit', (_c, sig) => events.push(`exit ${sig}`));
  await sup.start();
  const ups: number[] = [];
  sup.on('up', () => ups.push(Date.now()));
  // First death: restarted at once.
  let killedAt = Date.now();
  process.kill(sup.pid!, 'SIGKILL');
  await waitFor('first restart', () => ups.length === 1);
  expect(ups[0]! - killedAt).toBeLessThan(300);
  // Second quick death: backoff (restartDelayMs).
  killedAt = Date.now();
  process.kill(sup.pid!, 'SIGKILL');
  await waitFor('second restart', () => ups.length === 2);
  expect(ups[1]! - killedAt).toBeGreaterThanOrEqual(380);
  // Third: doubled.
  killedAt = Date.now();
  process.kill(sup.pid!, 'SIGKILL');
  await waitFor('third restart', () => ups.length === 3);
  expect(ups[2]! - killedAt).toBeGreaterThanOrEqual(780);
  expect(prepared).toBe(4); // prepare runs before every run (config files, ports)
  expect(sup.starts).toBe(4);
  expect(events.slice(0, 4)).toEqual(['up', 'exit SIGKILL', 'down', 'up']);
  await sup.stop();
});

test('a healthy run resets the backoff: its death is restarted at once', async () => {
  const sup = new Supervisor(spec({ restartDelayMs: 1000, healthyRunMs: 300 }), quiet);
  await sup.start();
  const ups: number[] = [];
  sup.on('up', () => ups.push(Date.now()));
  process.kill(sup.pid!, 'SIGKILL');
  await waitFor('restart', () => ups.length === 1);
  await new Promise((r) => setTimeout(r, 400)); // a healthy run
  const killedAt = Date.now();
  process.kill(sup.pid!, 'SIGKILL');
  await waitFor('restart after a healthy run', () => ups.length === 2);
  expect(ups[1]! - killedAt).toBeLessThan(300);
  await sup.stop();
});

test('maxRestarts: gives up with failed, and restarts nothing more', async () => {
  const sup = new Supervisor(spec({ restartDelayMs: 50, maxRestarts: 2 }), quiet);
  const failed: string[] = [];
  sup.on('failed', (why) => failed.push(why));
  await sup.start();
  for (let i = 0; i < 3; i++) {
    const starts = sup.starts;
    process.kill(sup.pid!, 'SIGKILL');
    if (i < 2) await waitFor('restart', () => sup.starts === starts + 1 && sup.up);
  }
  await waitFor('failed', () => failed.length === 1);
  expect(failed[0]).toMatch(/died 3 times in a row/);
  await new Promise((r) => setTimeout(r, 300));
  expect(sup.starts).toBe(3);
  expect(sup.pid).toBeUndefined();
  await sup.stop();
});

test('stop: SIGTERM first, SIGKILL for a child that ignores it; no restart; cleanup once', async () => {
  let cleaned = 0;
  const sup = new Supervisor(
    spec({
      prepare: () => ({
        binary: 'sh',
        args: ['-c', 'trap "" TERM; echo armed; while :; do sleep 0.05; done'],
      }),
      ready: (out) => out.includes('armed'),
      stopKillMs: 300,
      cleanup: () => cleaned++,
    }),
    quiet,
  );
  await sup.start();
  const pid = sup.pid!;
  const t0 = Date.now();
  await sup.stop();
  expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  expect(alive(pid)).toBe(false);
  await new Promise((r) => setTimeout(r, 200));
  expect(sup.starts).toBe(1);
  expect(cleaned).toBe(1);
});

test('ipc: a Node child started with an IPC channel (through setpriv) echoes messages; send is false once it is gone', async () => {
  const script =
    "process.on('message', (m) => process.send({ echo: m })); console.log('ready'); setInterval(() => {}, 1000);";
  const sup = new Supervisor(
    spec({
      prepare: () => ({ binary: process.execPath, args: ['-e', script], ipc: true }),
      ready: (out) => out.includes('ready'),
      maxRestarts: 0,
    }),
    quiet,
  );
  const got: unknown[] = [];
  sup.on('message', (m) => got.push(m));
  await sup.start();
  expect(sup.send({ n: 1 })).toBe(true);
  await waitFor('the echo', () => got.length === 1);
  expect(got).toEqual([{ echo: { n: 1 } }]);
  await sup.stop();
  expect(sup.send({ n: 2 })).toBe(false);
});

test('write reaches the stdin of a child launched with stdin; without one it returns false', async () => {
  const sup = new Supervisor(
    spec({
      prepare: () => ({
        binary: 'sh',
        args: ['-c', 'read line; echo got:$line; exec sleep 30'],
        stdin: true,
      }),
    }),
    quiet,
  );
  await sup.start();
  expect(sup.write('hello\n')).toBe(true);
  await waitFor('the echo', () => sup.output.includes('got:hello'));
  await sup.stop();
  expect(sup.write('again\n')).toBe(false);
  const plain = new Supervisor(spec({}), quiet);
  await plain.start();
  expect(plain.write('x\n')).toBe(false);
  await plain.stop();
});
