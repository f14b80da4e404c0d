/**
 * The one table from engine events to the legacy `onXxx` handlers: which handler an event calls, and
 * with which legacy arguments (the facade reads the handler off the ZegoClient when the event comes).
 */
import { ClientErrorCode } from '../../protocol/errors';
import type { WireStream } from '../../protocol/room';
import type { EngineEvents } from '../core/ClientEngine';

/** Legacy stream item as handed to pages. */
export function toLegacyStream(s: WireStream) {
  return {
    stream_id: s.stream_id,
    anchor_id_name: s.anchor_id_name,
    anchor_nick_name: s.anchor_nick_name,
    extra_info: s.extra_info,
    stream_gid: s.stream_gid,
    urls_flv: s.urls_flv || [],
    urls_hls: s.urls_m3u8 || [],
    urls_rtmp: s.urls_rtmp || [],
    urls_https_flv: s.urls_https_flv || [],
    urls_https_hls: s.urls_https_m3u8 || [],
  };
}

export type OnName =
  | 'onDisconnect'
  | 'onKickOut'
  | 'onGetAnchorInfo'
  | 'onRecvCustomCommand'
  | 'onStreamUpdated'
  | 'onStreamExtraInfoUpdated'
  | 'onRecvRoomMsg'
  | 'onUserStateUpdate'
  | 'onGetTotalUserList'
  | 'onUpdateOnlineCount'
  | 'onRecvJoinLiveRequest'
  | 'onRecvInviteJoinLiveRequest'
  | 'onRecvEndJoinLiveCommand'
  | 'onRecvReliableMessage'
  | 'onRecvBigRoomMessage'
  | 'onTempBroken'
  | 'onReconnect'
  | 'onPublishStateUpdate'
  | 'onPlayStateUpdate'
  | 'onPublishQualityUpdate'
  | 'onPlayQualityUpdate'
  | 'onVideoSizeChanged'
  | 'onRemoteCameraStatusUpdate'
  | 'onRemoteMicStatusUpdate'
  | 'onSoundLevelUpdate'
  | 'onScreenSharingEnded'
  | 'onDeviceError'
  | 'OnVideoDeviceStateChanged'
  | 'OnAudioDeviceStateChanged';

const same = <A extends unknown[]>(...a: A): unknown[] => a;

/** The one table: engine event -> the handler it calls and that handler's legacy arguments. */
export const ENGINE_EVENTS: { [K in keyof EngineEvents]: [OnName, (...a: EngineEvents[K]) => unknown[]] } = {
  anchorInfo: ['onGetAnchorInfo', same],
  streamsAdded: ['onStreamUpdated', (l) => [0, l.map(toLegacyStream)]],
  streamsDeleted: ['onStreamUpdated', (l) => [1, l.map(toLegacyStream)]],
  streamsUpdated: ['onStreamExtraInfoUpdated', (l) => [l.map(toLegacyStream)]],
  totalUserList: [
    'onGetTotalUserList',
    (roomId, l) => [roomId, l.map((u) => ({ idName: u.id_name, nickName: u.nick_name, role: u.role }))],
  ],
  userActions: [
    'onUserStateUpdate',
    (roomId, l) => [
      roomId,
      l.map((u) => ({
        action: u.Action,
        idName: u.IdName,
        nickName: u.NickName,
        role: u.Role,
        loginTime: u.LoginTime,
      })),
    ],
  ],
  onlineCount: ['onUpdateOnlineCount', same],
  reliableMessage: ['onRecvReliableMessage', same],
  customCommand: ['onRecvCustomCommand', same],
  roomMessage: ['onRecvRoomMsg', same],
  bigRoomMessages: ['onRecvBigRoomMessage', same],
  joinLiveRequest: ['onRecvJoinLiveRequest', same],
  joinLiveInvite: ['onRecvInviteJoinLiveRequest', same],
  joinLiveEnd: ['onRecvEndJoinLiveCommand', same],
  tempBroken: ['onTempBroken', same],
  reconnected: ['onReconnect', same],
  disconnected: ['onDisconnect', (e) => [e.toLegacy()]],
  kickedOut: ['onKickOut', (reason) => [{ code: ClientErrorCode.Kickout, msg: `kickout reason=${reason}` }]],
  // State callbacks pass 0 instead of an error on success (legacy).
  publishState: ['onPublishStateUpdate', (type, id, err) => [type, id, type === 0 ? 0 : err]],
  playState: ['onPlayStateUpdate', (type, id, err) => [type, id, type === 0 ? 0 : err]],
  publishQuality: ['onPublishQualityUpdate', same],
  playQuality: ['onPlayQualityUpdate', same],
  videoSize: ['onVideoSizeChanged', same],
  remoteCamera: ['onRemoteCameraStatusUpdate', same],
  remoteMic: ['onRemoteMicStatusUpdate', same],
  soundLevels: ['onSoundLevelUpdate', same],
  // 1.12.5 passes the ended stream (the seed documents no argument).
  screenEnded: ['onScreenSharingEnded', same],
  deviceError: ['onDeviceError', same],
  // Capital O: 1.9's names.
  videoDevice: ['OnVideoDeviceStateChanged', same],
  audioDevice: ['OnAudioDeviceStateChanged', same],
};
