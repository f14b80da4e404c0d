/**
 * `zg.stateCenter`: a read-only view, under the original's names, of the state that jZego-rtc 1.12.5 kept
 * in its internal StateCenter and that pages read (the demos read `zg.stateCenter.role` in the login
 * callback to know whether they are the anchor). Every field is a getter over the live state, so a page
 * reads the current value, as it did from the original's plain object; writing is ignored (the object
 * is frozen: a page cannot corrupt the SDK through it).
 *
 * Kept (1.12.5 name: meaning): appid, idName, nickName, server, serverBak (config); configOK;
 * testEnvironment (always false: our server has no test cluster); roomid, role, token, third_token (set
 * when login is called); userid, sessionid (from the login reply, '' after logout); runState (0 logged
 * out, 1 logging in / reconnecting, 2 logged in) and isLogin(); userStateUpdate; roomCreateFlag;
 * streamList (the room's streams as wire items: others', then our own the room accepted);
 * publishStreamList ({streamId: {state: 2 starting | 4 publishing, extra_info}}); anchor_info;
 * roomRetryTime, streamRetryTime (s); heartbeatInterval (ms); serverTimeOffset (server clock minus ours,
 * ms). The rest of 1.12.5's StateCenter (timers, send queues, callback maps, sequence counters, pacing
 * windows, screen-share and audio-effect buffers) is machinery with no meaning to a page; see
 * docs/api-status.md.
 */
import { DEFAULT_RETRY_TIME_S } from '../../protocol/constants';
import type { WireStream } from '../../protocol/room';
import type { RoomView } from '../core/RoomSession';

/** What the view reads, live, from the facade. */
export interface StateSource {
  config(): {
    appid: number | string;
    idName: string;
    nickName: string;
    server: string | string[];
    audienceCreateRoom?: boolean;
    roomRetryTime?: number;
    streamRetryTime?: number;
    maxRetryTime?: number;
  } | null;
  /** The last login call's arguments (undefined before any). */
  login(): { roomId: string; role: number; token: string; thirdToken: string } | undefined;
  session(): RoomView | null;
  userStateUpdate(): boolean;
  /** Own published streams: id, started (state 0 reached) and extra info. */
  publishers(): [string, { started: boolean; extraInfo: string }][];
}

/** 1.12.5 ENUM_RUN_STATE. */
const RunState = { logout: 0, trylogin: 1, login: 2 } as const;
/** 1.12.5 ENUM_PUBLISH_STREAM_STATE (the two a publisher shows here). */
const PublishStreamState = { tryPublish: 2, publishing: 4 } as const;

export interface StateCenterView {
  readonly appid: number | string | undefined;
  readonly idName: string | undefined;
  readonly nickName: string | undefined;
  readonly server: string | undefined;
  readonly serverBak: string | undefined;
  readonly configOK: boolean;
  readonly testEnvironment: boolean;
  readonly roomid: string | undefined;
  readonly role: number | undefined;
  readonly token: string | undefined;
  readonly third_token: string;
  readonly userid: string | undefined;
  readonly sessionid: string | undefined;
  readonly runState: 0 | 1 | 2;
  readonly userStateUpdate: boolean;
  readonly roomCreateFlag: 0 | 1;
  readonly streamList: WireStream[];
  readonly publishStreamList: Record<string, { state: number; extra_info: string }>;
  readonly anchor_info: { anchor_id: string; anchor_id_name: string; anchor_nick_name: string };
  readonly roomRetryTime: number;
  readonly streamRetryTime: number;
  readonly heartbeatInterval: number | undefined;
  readonly serverTimeOffset: number;
  isLogin(): boolean;
}

export function createStateCenter(src: StateSource): StateCenterView {
  const servers = () => {
    const s = src.config()?.server;
    return s === undefined ? [] : Array.isArray(s) ? s : [s];
  };
  const retry = (kind: 'roomRetryTime' | 'streamRetryTime') => {
    const c = src.config();
    if (c?.maxRetryTime && c.maxRetryTime < 3600) return c.maxRetryTime;
    return c?.[kind] ?? DEFAULT_RETRY_TIME_S;
  };
  // userid / sessionid: undefined until a login was tried, '' while there is no session (as 1.12.5).
  const identity = (field: 'user_id' | 'session_id') => {
    if (!src.login()) return undefined;
    const room = src.session();
    return (field === 'user_id' ? room?.userId : room?.sessionId) ?? '';
  };
  const runState = (): 0 | 1 | 2 => {
    const st = src.session()?.state;
    if (st === 'logged-in') return RunState.login;
    // 'idle': login was called; the attempt starts on a 0 ms timer (1.12.5 is in trylogin already).
    if (st === 'idle' || st === 'logging-in' || st === 'reconnecting') return RunState.trylogin;
    return RunState.logout;
  };
  const getters: { [K in keyof Omit<StateCenterView, 'isLogin'>]: () => StateCenterView[K] } = {
    appid: () => src.config()?.appid,
    idName: () => src.config()?.idName,
    nickName: () => src.config()?.nickName,
    server: () => servers()[0],
    serverBak: () => servers()[1] ?? servers()[0],
    configOK: () => src.config() !== null,
    testEnvironment: () => false,
    roomid: () => src.login()?.roomId,
    role: () => src.login()?.role,
    token: () => src.login()?.token,
    third_token: () => src.login()?.thirdToken ?? '',
    userid: () => identity('user_id'),
    sessionid: () => identity('session_id'),
    runState,
    userStateUpdate: () => src.userStateUpdate(),
    roomCreateFlag: () => (src.config()?.audienceCreateRoom === false ? 0 : 1),
    streamList: () => src.session()?.streamList ?? [],
    publishStreamList: () => {
      const out: Record<string, { state: number; extra_info: string }> = {};
      for (const [id, p] of src.publishers())
        out[id] = {
          state: p.started ? PublishStreamState.publishing : PublishStreamState.tryPublish,
          extra_info: p.extraInfo,
        };
      return out;
    },
    anchor_info: () => ({
      ...(src.session()?.anchorInfo ?? { anchor_id: '', anchor_id_name: '', anchor_nick_name: '' }),
    }),
    roomRetryTime: () => retry('roomRetryTime'),
    streamRetryTime: () => retry('streamRetryTime'),
    heartbeatInterval: () => src.session()?.heartbeatMs,
    serverTimeOffset: () => src.session()?.serverOffsetMs ?? 0,
  };
  const view = {} as StateCenterView;
  for (const [name, get] of Object.entries(getters))
    Object.defineProperty(view, name, { get, enumerable: true, configurable: false });
  Object.defineProperty(view, 'isLogin', {
    value: () => runState() === RunState.login,
    enumerable: false,
  });
  return Object.freeze(view);
}
