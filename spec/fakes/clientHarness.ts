/**
 * A ZegoClient on a FakePlatform with a FakeRoomServer, every legacy callback recorded.
 */
import { ZegoClient, type ZegoConfig } from '../../src/client/compat/ZegoClient';
import type { LoginRsp } from '../../src/protocol/room';
import { FakePlatform } from './FakePlatform';
import { FakeRoomServer } from './FakeRoomServer';

export const CALLBACKS = [
  'onDisconnect',
  'onKickOut',
  'onTempBroken',
  'onReconnect',
  'onUpdateOnlineCount',
  'onGetAnchorInfo',
  'onRecvCustomCommand',
] as const;
export type CallbackName = (typeof CALLBACKS)[number];

export interface Harness {
  platform: FakePlatform;
  server: FakeRoomServer;
  zg: ZegoClient;
  /** Arguments of every call of each recorded onXxx callback. */
  calls: Record<CallbackName, unknown[][]>;
  loginOk: jest.Mock;
  loginErr: jest.Mock;
}

export interface HarnessOptions {
  config?: Partial<ZegoConfig>;
  login?: Partial<LoginRsp>;
  clockOffsetMs?: number;
}

export function newHarness(o: HarnessOptions = {}): Omit<Harness, 'loginOk' | 'loginErr'> {
  const platform = new FakePlatform();
  const server = new FakeRoomServer(platform);
  server.login = o.login ?? {};
  server.clockOffsetMs = o.clockOffsetMs ?? 0;
  const zg = new ZegoClient(platform);
  const calls = {} as Record<CallbackName, unknown[][]>;
  for (const n of CALLBACKS) {
    calls[n] = [];
    zg[n] = (...a: unknown[]) => calls[n].push(a);
  }
  expect(
    zg.config({ appid: 1, idName: 'alice', nickName: 'Alice', server: 'ws://fake.test/ws', ...o.config }),
  ).toBe(true);
  return { platform, server, zg, calls };
}

/** A logged-in client at fake time 0 of the session (the first heartbeat already answered). */
export async function loggedIn(o: HarnessOptions = {}): Promise<Harness> {
  const h = newHarness(o);
  const loginOk = jest.fn();
  const loginErr = jest.fn();
  h.zg.login('room1', 1, 'token', loginOk, loginErr);
  await h.platform.advance(0);
  expect(loginErr).not.toHaveBeenCalled();
  expect(loginOk).toHaveBeenCalledTimes(1);
  return { ...h, loginOk, loginErr };
}
