/**
 * The AdminView of one node: the room plane's RoomAdmin, plus what the media plane and live production
 * add (ending a publisher's session, mix tasks, relays, bridged players) and this node's line in the node
 * list. Wired by index.ts; room and media stay unaware of each other (they are reached through the small
 * functions given here).
 */
import type { AdminNode, AdminTask, AdminView, RoomAdmin } from './AdminView';

/** What the room plane cannot answer, from the planes beside it (null/absent: that plane is off). */
export interface NodeParts {
  node: string;
  startedAt: number;
  /** 'off' without a media plane. */
  janus(): 'up' | 'down' | 'off';
  /** Closes the stream's publishing session (media plane): its room, or null when nobody publishes it here. */
  endPublisher?(appid: number, streamId: string): string | null;
  /**
   * Many nodes: asks the node that holds the stream's publisher to close its session (what endPublisher
   * does there); its room, or null (no publisher there, no answer in time).
   */
  endPublisherElsewhere?(appid: number, streamId: string): Promise<string | null>;
  /** Live production's /healthz details (mixTasks, relays). */
  live?(): { mixTasks?: unknown; relays?: unknown } | null;
  /** Bridged players of an app. */
  bridgeViewers?(appid: number): number;
  /** Many nodes: every live node's line (NodeLine JSON, as each node last published it). */
  cluster?(): Promise<string[]>;
}

/** A node's line in the shared node list (many nodes), per app. */
export interface NodeLine {
  node: string;
  startedAt: number;
  janus: 'up' | 'down' | 'off';
  apps: Record<string, { rooms: number; users: number; streams: number }>;
}

interface MixStat {
  appid: number;
  room: string;
  output: string;
  owner: string;
  inputs: string[];
  ffmpegPid: number | null;
}

interface RelayStat {
  appid: number;
  stream: string;
  target: string;
  live: boolean;
}

export class LocalAdminView implements AdminView {
  constructor(
    private readonly room: RoomAdmin,
    private readonly parts: NodeParts,
  ) {}

  rooms = (appid: number) => this.room.rooms(appid);
  users = (appid: number, roomId: string) => this.room.users(appid, roomId);
  streams = (appid: number, roomId?: string) => this.room.streams(appid, roomId);
  kick = (appid: number, roomId: string, idName: string, reason: number) =>
    this.room.kick(appid, roomId, idName, reason);
  closeRoom = (appid: number, roomId: string, reason: number) => this.room.closeRoom(appid, roomId, reason);
  unlistStream = (appid: number, streamId: string) => this.room.unlistStream(appid, streamId);
  sendRoomMessage: RoomAdmin['sendRoomMessage'] = (appid, roomId, m) =>
    this.room.sendRoomMessage(appid, roomId, m);
  sendCustomCommand: RoomAdmin['sendCustomCommand'] = (appid, roomId, m) =>
    this.room.sendCustomCommand(appid, roomId, m);
  counts = (appid: number) => this.room.counts(appid);

  async endStream(appid: number, streamId: string): Promise<string | null> {
    const listed = (await this.room.streams(appid))?.find((s) => s.streamId === streamId);
    // The publisher's session first: a stopped publisher's stream leaves its room (12002) before its
    // players are closed, as on a page's own stop. Whatever is still listed then (a stream whose media
    // never came up here, a mix output) is taken out of the list.
    // Many nodes: a publisher on another node is ended there (its page hears it as on one node).
    const endedIn =
      this.parts.endPublisher?.(appid, streamId) ??
      (await this.parts.endPublisherElsewhere?.(appid, streamId)) ??
      null;
    const unlisted = await this.room.unlistStream(appid, streamId);
    return listed?.roomId ?? unlisted ?? endedIn;
  }

  async tasks(appid: number): Promise<AdminTask[]> {
    const out: AdminTask[] = [];
    const live = this.parts.live?.() ?? null;
    const mixes = (Array.isArray(live?.mixTasks) ? live.mixTasks : []) as MixStat[];
    const relays = (Array.isArray(live?.relays) ? live.relays : []) as RelayStat[];
    for (const m of mixes)
      if (m.appid === appid)
        out.push({
          kind: 'mix',
          roomId: m.room,
          streamId: m.output,
          owner: m.owner,
          detail: `inputs: ${m.inputs.join(', ')}`.slice(0, 4096),
          live: m.ffmpegPid !== null,
        });
    for (const r of relays)
      if (r.appid === appid)
        out.push({
          kind: 'relay',
          streamId: r.stream,
          detail: `to ${r.target}`.slice(0, 4096),
          live: r.live,
        });
    const viewers = this.parts.bridgeViewers?.(appid) ?? 0;
    if (viewers > 0)
      out.push({
        kind: 'bridge',
        streamId: '',
        detail: `${viewers} player(s) of the original SDK`,
        live: true,
      });
    return out;
  }

  async nodes(appid: number): Promise<AdminNode[]> {
    if (this.parts.cluster) {
      const lines = (await this.parts.cluster()).map((l) => JSON.parse(l) as NodeLine);
      return lines
        .map((l) => ({
          node: l.node,
          uptimeS: Math.max(0, Math.round((Date.now() - l.startedAt) / 1000)),
          janus: l.janus,
          ...(l.apps[String(appid)] ?? { rooms: 0, users: 0, streams: 0 }),
        }))
        .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    }
    const c = await this.room.counts(appid);
    return [
      {
        node: this.parts.node,
        uptimeS: Math.max(0, Math.round((Date.now() - this.parts.startedAt) / 1000)),
        janus: this.parts.janus(),
        rooms: c.rooms,
        users: c.users,
        streams: c.streams,
      },
    ];
  }
}
