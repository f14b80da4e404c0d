/**
 * A two-user room scenario driven through the legacy ZegoClient API in two real pages. Used by the
 * browser suite (shim <-> shim) and the compatibility suite (original SDK <-> shim, both directions).
 * It returns what each side's callbacks received, normalised (times, ids and counters replaced by their
 * type) so runs with different SDK flavours can be compared argument by argument.
 */
import type { Page } from 'playwright-core';
import { waitForEvent, type RecordedEvent } from './browser';

export const CALLBACKS = [
  'onDisconnect',
  'onKickOut',
  'onGetAnchorInfo',
  'onRecvCustomCommand',
  'onStreamUpdated',
  'onStreamExtraInfoUpdated',
  'onRecvRoomMsg',
  'onUserStateUpdate',
  'onGetTotalUserList',
  'onUpdateOnlineCount',
  'onRecvJoinLiveRequest',
  'onRecvInviteJoinLiveRequest',
  'onRecvEndJoinLiveCommand',
  'onRecvReliableMessage',
  'onRecvBigRoomMessage',
  'onTempBroken',
  'onReconnect',
];

export interface Peer {
  page: Page;
  idName: string;
  nickName: string;
}

export interface LoginOptions {
  appid: number;
  server: string;
  room: string;
  token: string;
  role?: number;
}

/** Creates a ZegoClient in the page, wires every callback to the recorder, configures and logs in. */
export async function setupAndLogin(peer: Peer, o: LoginOptions): Promise<unknown[]> {
  await peer.page.evaluate(
    ({ o, idName, nickName, callbacks }) => {
      const w = window as unknown as Record<string, unknown> & {
        __record: (n: string) => (...a: unknown[]) => void;
      };
      const ZC = w.ZegoClient as new () => Record<string, unknown>;
      const zg = new ZC();
      w.zg = zg;
      for (const n of callbacks) zg[n] = w.__record(n);
      const config = zg.config as (c: unknown) => boolean;
      const ok = config.call(zg, {
        appid: o.appid,
        idName,
        nickName,
        server: o.server,
        logLevel: 3,
        remoteLogLevel: 100,
        logUrl: '',
        audienceCreateRoom: true,
      });
      w.__record('config.return')(ok);
      (zg.setUserStateUpdate as (b: boolean) => void).call(zg, true);
      (zg.login as (...a: unknown[]) => void).call(
        zg,
        o.room,
        o.role ?? 1,
        o.token,
        w.__record('login.success'),
        w.__record('login.error'),
      );
    },
    { o, idName: peer.idName, nickName: peer.nickName, callbacks: CALLBACKS },
  );
  const ev = await Promise.race([
    waitForEvent(peer.page, 'login.success', undefined, 15_000),
    waitForEvent(peer.page, 'login.error', undefined, 15_000).then((e) => {
      throw new Error(`${peer.idName} login failed: ${JSON.stringify(e.args)}`);
    }),
  ]);
  return ev.args;
}

/** Calls `zg[method](...args, success, error[, extra callbacks])` in the page; records the sync return. */
export async function call(
  peer: Peer,
  method: string,
  args: unknown[],
  callbackNames: string[],
): Promise<unknown> {
  return peer.page.evaluate(
    ({ method, args, callbackNames }) => {
      const w = window as unknown as Record<string, unknown> & {
        __record: (n: string) => (...a: unknown[]) => void;
        zg: Record<string, (...a: unknown[]) => unknown>;
      };
      const fn = w.zg[method];
      if (typeof fn !== 'function') throw new Error(`zg.${method} is not a function`);
      const ret = fn.apply(w.zg, [...args, ...callbackNames.map((n) => w.__record(n))]);
      return ret === undefined ? null : ret;
    },
    { method, args, callbackNames },
  );
}

export async function events(page: Page): Promise<RecordedEvent[]> {
  return page.evaluate(() => (window as unknown as { __events: RecordedEvent[] }).__events);
}

/** Replaces volatile values by their type so two runs can be compared. */
export function normalise(v: unknown, key = ''): unknown {
  const volatile = /time|Time|msg_id|msgId|messageId|bigmsg_id|seq|Seq|request|server_msg_id|ret_msg_id/;
  if (Array.isArray(v)) return v.map((x) => normalise(x, key));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = normalise((v as Record<string, unknown>)[k], k);
    return out;
  }
  if (volatile.test(key) && (typeof v === 'number' || typeof v === 'string')) return `<${typeof v}>`;
  // Server-made message ids ("<ms>-<n>") differ per run.
  if (typeof v === 'string' && /^\d{10,}-\d+$/.test(v)) return '<id>';
  if (typeof v === 'string' && v.startsWith('{')) {
    // A JSON payload handed to the page (e.g. the custom command's custom_msg): compare its fields.
    try {
      return { json: normalise(JSON.parse(v)) };
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * Runs the scenario: A and B in one room; custom command, room message, reliable message, big-room message,
 * user-list updates, join-live request/response in both directions, invite, end, logout.
 * Returns the events each side recorded, keyed by step, with their raw args.
 */
export async function runRoomScenario(
  a: Peer,
  b: Peer,
  o: Omit<LoginOptions, 'token'>,
  tokenFor: (idName: string) => Promise<string>,
): Promise<Record<string, { args: unknown[] }>> {
  const out: Record<string, { args: unknown[] }> = {};
  const step = (name: string, ev: RecordedEvent) => {
    out[name] = { args: ev.args };
  };

  await setupAndLogin(a, { ...o, token: await tokenFor(a.idName) });
  step('A.anchorInfo', await waitForEvent(a.page, 'onGetAnchorInfo'));
  await setupAndLogin(b, { ...o, token: await tokenFor(b.idName) });
  step(
    'B.totalUserList',
    await waitForEvent(b.page, 'onGetTotalUserList', (x) => JSON.stringify(x).includes(a.idName)),
  );
  step(
    'A.userJoin',
    await waitForEvent(a.page, 'onUserStateUpdate', (x) => JSON.stringify(x).includes(b.idName)),
  );

  // Custom command A -> B
  out['A.customCommand.return'] = {
    args: [await call(a, 'sendCustomCommand', [[b.idName], 'hello'], ['cc.ok', 'cc.err'])],
  };
  step('A.customCommand.success', await waitForEvent(a.page, 'cc.ok'));
  step('B.recvCustomCommand', await waitForEvent(b.page, 'onRecvCustomCommand'));

  // Room message B -> A
  await call(b, 'sendRoomMsg', [1, 1, 'hi'], ['rm.ok', 'rm.err']);
  step('B.roomMsg.success', await waitForEvent(b.page, 'rm.ok'));
  step('A.recvRoomMsg', await waitForEvent(a.page, 'onRecvRoomMsg'));

  // Reliable message A -> B
  await call(a, 'sendReliableMessage', ['quiz', 'q1'], ['rel.ok', 'rel.err']);
  step('A.reliable.success', await waitForEvent(a.page, 'rel.ok'));
  step('B.recvReliable', await waitForEvent(b.page, 'onRecvReliableMessage', undefined, 20_000));

  // Big-room message B -> A
  await call(b, 'sendBigRoomMessage', [1, 1, 'big'], ['big.ok', 'big.err']);
  step('B.bigRoom.success', await waitForEvent(b.page, 'big.ok'));
  step('A.recvBigRoom', await waitForEvent(a.page, 'onRecvBigRoomMessage'));

  // Join-live request A -> B, B accepts
  out['A.requestJoinLive.return'] = {
    args: [await call(a, 'requestJoinLive', [b.idName], ['jl.ok', 'jl.err', 'jl.result'])],
  };
  step('A.requestJoinLive.success', await waitForEvent(a.page, 'jl.ok'));
  const req = await waitForEvent(b.page, 'onRecvJoinLiveRequest');
  step('B.recvJoinLiveRequest', req);
  await call(b, 'respondJoinLive', [req.args[0], true], ['resp.ok', 'resp.err']);
  step('B.respond.success', await waitForEvent(b.page, 'resp.ok'));
  step('A.joinLiveResult', await waitForEvent(a.page, 'jl.result'));

  // Invite B -> A, A refuses
  await call(b, 'inviteJoinLive', [a.idName], ['inv.ok', 'inv.err', 'inv.result']);
  step('B.invite.success', await waitForEvent(b.page, 'inv.ok'));
  const inv = await waitForEvent(a.page, 'onRecvInviteJoinLiveRequest');
  step('A.recvInvite', inv);
  await call(a, 'respondJoinLive', [inv.args[0], false], ['resp2.ok', 'resp2.err']);
  step('B.inviteResult', await waitForEvent(b.page, 'inv.result'));

  // End join-live A -> B
  await call(a, 'endJoinLive', [b.idName], ['end.ok', 'end.err']);
  step('A.end.success', await waitForEvent(a.page, 'end.ok'));
  step('B.recvEnd', await waitForEvent(b.page, 'onRecvEndJoinLiveCommand'));

  // B leaves: A sees it in the user list
  await call(b, 'logout', [], []);
  step(
    'A.userLeave',
    await waitForEvent(a.page, 'onUserStateUpdate', (x) => JSON.stringify(x).includes('"action":2')),
  );
  await call(a, 'logout', [], []);
  return out;
}
