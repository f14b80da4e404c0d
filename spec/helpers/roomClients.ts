/**
 * Helpers for the integration suite: jsdom ZegoClients against a real server, with every callback
 * recorded. Every wait is bounded.
 */
import { ZegoClient } from '../../src/client';
import { mintLoginToken } from '../../src/server';
import { CALLBACKS } from './roomScenario';

export const APPID = 1739272706;
export const SIGN = 'cd'.repeat(32);

export async function waitFor<T>(what: string, get: () => T | undefined | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Callback name -> the argument lists it was called with. */
export type Rec = Record<string, unknown[][]>;

/** Makes ZegoClients for one server URL; `releaseAll()` in afterEach. */
export function clientFactory(serverUrl: () => string) {
  const clients: ZegoClient[] = [];
  function newClient(idName: string, extra: Record<string, unknown> = {}): { zg: ZegoClient; rec: Rec } {
    const zg = new ZegoClient();
    const rec: Rec = {};
    for (const n of CALLBACKS)
      (zg as unknown as Record<string, unknown>)[n] = (...a: unknown[]) => (rec[n] ??= []).push(a);
    const ok = zg.config({
      appid: APPID,
      idName,
      nickName: idName.toUpperCase(),
      server: serverUrl().replace('http', 'ws') + '/ws',
      logLevel: 3,
      testing: { heartbeatFloorMs: 100, backoffMs: 100 },
      ...extra,
    });
    if (!ok) throw new Error(`config refused for ${idName}`);
    clients.push(zg);
    return { zg, rec };
  }
  function releaseAll(): void {
    for (const c of clients.splice(0)) c.release();
  }
  return { newClient, releaseAll };
}

export function login(
  zg: ZegoClient,
  idName: string,
  authToken?: string,
  roomId = 'room1',
): Promise<unknown[]> {
  const token = mintLoginToken({ appid: APPID, appSign: SIGN, idName });
  return new Promise((resolve, reject) => {
    const ok = (list: unknown[]) => resolve(list);
    const err = (e: unknown) => reject(new Error(JSON.stringify(e)));
    if (authToken === undefined) zg.login(roomId, 1, token, ok, err);
    else zg.loginWithAuthor(roomId, 1, token, authToken, ok, err);
  });
}

/** Calls a legacy method with (…, success, error) and resolves with either outcome's arguments. */
export function outcome(
  fn: (ok: (...a: unknown[]) => void, err: (...a: unknown[]) => void) => unknown,
  ms = 8000,
): Promise<{ ok?: unknown[]; err?: unknown[] }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no callback within ${ms} ms`)), ms);
    fn(
      (...a) => {
        clearTimeout(t);
        resolve({ ok: a });
      },
      (...a) => {
        clearTimeout(t);
        resolve({ err: a });
      },
    );
  });
}
