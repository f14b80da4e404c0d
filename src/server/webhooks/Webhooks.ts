/**
 * What the business servers hear: the room plane's events (RoomEvents) and live production's mix tasks,
 * as webhook events of the documented shape (docs/deployment.md, "Webhooks"), handed to the sender. Only
 * apps with a `webhookUrl` get any, and only the types in their `webhookEvents`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { WireStream } from '../../protocol/room';
import type { AppConfig } from '../config';
import type { WebhookEventType } from '../opsConfig';
import type { LeaveReason, RoomEvents, RoomUserRef } from '../room/RoomEvents';
import type { WebhookSender } from './WebhookSender';

/** A mix task starting or ending (live production's event). */
export interface MixTaskEvent {
  appid: number;
  roomId: string;
  /** The output stream id, or `url:<mixurl>` for a mix pushed to a URL. */
  output: string;
  owner: string;
  inputs: readonly string[];
}

export class Webhooks implements RoomEvents {
  private readonly types = new Map<number, ReadonlySet<WebhookEventType>>();

  constructor(
    apps: readonly AppConfig[],
    private readonly sender: WebhookSender,
    private readonly node: string,
  ) {
    for (const a of apps) if (a.webhookUrl) this.types.set(a.appid, new Set(a.webhookEvents ?? []));
  }

  /**
   * `key` names the event the same whichever node tells it (a session, a room's generation, a stream's
   * listing): the id is derived from it, so a business server deduplicates across nodes and retries.
   */
  private emit(appid: number, type: WebhookEventType, data: Record<string, unknown>, key?: string): void {
    if (!this.types.get(appid)?.has(type)) return;
    const id = key
      ? `evt_${createHash('sha256')
          .update(`${appid}\u0000${String(data.roomId)}\u0000${type}\u0000${key}`)
          .digest('hex')
          .slice(0, 32)}`
      : `evt_${randomUUID()}`;
    this.sender.send({ id, type, appid, node: this.node, time: Date.now(), data });
  }

  roomCreated(appid: number, roomId: string, key?: string): void {
    this.emit(appid, 'room.created', { roomId }, key);
  }

  roomClosed(appid: number, roomId: string, key?: string): void {
    this.emit(appid, 'room.closed', { roomId }, key);
  }

  userLoggedIn(appid: number, roomId: string, u: RoomUserRef): void {
    this.emit(
      appid,
      'user.logged_in',
      { roomId, idName: u.idName, nickName: u.nickName, role: u.role },
      u.sessionId,
    );
  }

  userLoggedOut(appid: number, roomId: string, u: RoomUserRef, reason: LeaveReason): void {
    this.emit(
      appid,
      'user.logged_out',
      {
        roomId,
        idName: u.idName,
        nickName: u.nickName,
        role: u.role,
        reason,
      },
      u.sessionId,
    );
  }

  streamStarted(appid: number, roomId: string, s: WireStream, key?: string): void {
    this.emit(appid, 'stream.started', streamData(roomId, s), key);
  }

  streamStopped(appid: number, roomId: string, s: WireStream, key?: string): void {
    this.emit(appid, 'stream.stopped', streamData(roomId, s), key);
  }

  mixStarted(t: MixTaskEvent): void {
    this.emit(t.appid, 'mix.started', mixData(t));
  }

  mixStopped(t: MixTaskEvent): void {
    this.emit(t.appid, 'mix.stopped', mixData(t));
  }
}

function streamData(roomId: string, s: WireStream): Record<string, unknown> {
  return {
    roomId,
    streamId: s.stream_id,
    idName: s.anchor_id_name,
    nickName: s.anchor_nick_name,
    extraInfo: s.extra_info,
  };
}

function mixData(t: MixTaskEvent): Record<string, unknown> {
  const url = t.output.startsWith('url:');
  return {
    roomId: t.roomId,
    ...(url ? { mixUrl: t.output.slice(4) } : { streamId: t.output }),
    owner: t.owner,
    inputs: [...t.inputs],
  };
}
