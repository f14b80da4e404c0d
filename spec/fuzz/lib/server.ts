/**
 * The server under attack: the built CLI (`node dist/server/cli.js --config <tmp json>`) as a CHILD
 * PROCESS, so that a crash is observable (exit code, signal, pid gone) instead of taking the test runner
 * down with it. Its output is kept (the tail is printed on failure).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintLoginToken } from '../../../src/server/auth/loginToken';

export const ROOT = join(__dirname, '..', '..', '..');
/** The built server; FUZZ_CLI points the suite at another build (a before/after comparison). */
export const CLI = process.env.FUZZ_CLI || join(ROOT, 'dist', 'server', 'cli.js');
/** Any appid works in dev mode; GET /token mints login tokens for it. */
export const APPID = 1739272706;

export function requireBuild(): void {
  if (!existsSync(CLI))
    throw new Error(
      `built server missing: ${CLI}. The fuzz suite attacks the built server as a child process: ` +
        'run "npm run build" first.',
    );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface HttpResult {
  status: number;
  text: string;
}

/** A GET with a deadline (and optionally a chosen loopback source address, for the per-IP caps). */
export function httpGet(url: string, ms = 3000, localAddress?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text = (text + d).slice(0, 100_000)));
      res.on('end', () => {
        clearTimeout(t);
        resolve({ status: res.statusCode ?? 0, text });
      });
      res.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    const t = setTimeout(() => req.destroy(new Error(`GET ${url}: no answer within ${ms} ms`)), ms);
    req.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    req.end();
  });
}

/** /healthz details as our server reports them to allowed (loopback) addresses. */
export interface Health {
  status?: string;
  rooms?: number;
  users?: number;
  eventLoop?: { maxMs: number; p99Ms: number };
  memory?: { rssMiB: number; heapUsedMiB: number };
  [k: string]: unknown;
}

export interface FuzzServer {
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  ws(path: '/ws' | '/media'): string;
  pid: number;
  alive(): boolean;
  /** "exited with code N" / "killed by SIGX", or '' while alive. */
  exitInfo(): string;
  /** The last lines the server printed. */
  output(lines?: number): string;
  health(ms?: number): Promise<Health>;
  /** A fresh login token for idName (dev mode: GET /token). */
  token(idName: string, appid?: number): Promise<string>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A jest worker that dies must not leave servers behind.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/**
 * Config for the fuzz server: dev mode (no apps), a media service whose Janus is unreachable (so every
 * /media request is handled, Janus-dependent ones answer a media-server error), external TURN, warnings
 * only.
 */
export function fuzzConfig(extra: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const base: Record<string, Record<string, unknown>> = {
    log: { level: 'warn' },
    janus: { urls: ['ws://127.0.0.1:1'], startTimeoutMs: 100 },
    // External TURN: CreateSessionReq hands out credentials, and no coturn is spawned (fuzz servers run
    // in parallel outside a network namespace: a fixed TURN port would clash).
    turn: { servers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 'fuzz-turn-secret' }] },
    // Sockets that stay quiet between properties must not expire; the bystander beats anyway.
    room: { heartbeatMs: 60_000 },
  };
  for (const [k, v] of Object.entries(extra)) base[k] = { ...(base[k] ?? {}), ...v };
  return base;
}

export async function startFuzzServer(config: Record<string, unknown> = fuzzConfig()): Promise<FuzzServer> {
  requireBuild();
  const dir = mkdtempSync(join(tmpdir(), 'zego-fuzz-'));
  const port = await freePort();
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ host: '127.0.0.1', port, ...config }));
  const child = spawn(process.execPath, [CLI, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-40_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => running.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const apps = (Array.isArray(config.apps) ? config.apps : []) as { appid: number; appSign: string }[];
  const exitInfo = () =>
    child.exitCode !== null
      ? `exited with code ${child.exitCode}`
      : child.signalCode !== null
        ? `killed by ${child.signalCode}`
        : '';
  const output = (lines = 40) => out.split('\n').slice(-lines).join('\n');
  const health = async (ms = 3000): Promise<Health> => {
    const r = await httpGet(`${url}/healthz`, ms);
    if (r.status !== 200) throw new Error(`GET /healthz answered ${r.status}: ${r.text.slice(0, 200)}`);
    try {
      return JSON.parse(r.text) as Health;
    } catch {
      return { status: r.text.trim() };
    }
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exitInfo()) throw new Error(`fuzz server ${exitInfo()} at start:\n${output()}`);
    try {
      await health(1000);
      break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`fuzz server not up within 15 s:\n${output()}`);
    }
    await sleep(50);
  }
  return {
    port,
    url,
    ws: (path) => `ws://127.0.0.1:${port}${path}`,
    pid: child.pid!,
    alive: () => !exitInfo(),
    exitInfo,
    output,
    health,
    token: async (idName, appid = APPID) => {
      // With apps configured (no dev mode, no /token): minted here with the app's appSign, as its
      // business server would.
      const app = apps.find((a) => a.appid === appid);
      if (app) return mintLoginToken({ appid, appSign: app.appSign, idName });
      const r = await httpGet(`${url}/token?app_id=${appid}&id_name=${encodeURIComponent(idName)}`, 3000);
      if (r.status !== 200) throw new Error(`GET /token answered ${r.status}: ${r.text}`);
      return r.text;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (exitInfo()) return done();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Waits (bounded) until the process has either exited or is still alive after `ms`. */
export async function settle(srv: FuzzServer, ms = 150): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!srv.alive()) return false;
    await sleep(10);
  }
  return srv.alive();
}
