/**
 * Where rooms live, and the fan-out of pushes to their members: the two seams a many-node deployment
 * replaces (Redis: `../shared/design/ARCHITECTURE.md`, "Many nodes"). Room logic (RoomService's handlers)
 * reaches rooms only through a RoomStore and members only through a Bus, so a Redis store and bus can
 * follow without touching it.
 *
 * In memory (one node), today: MemoryRoomStore keeps the rooms of this process and the app-wide index of
 * stream ids (stream ids are unique per app); MemoryBus delivers to the members connected here. A Redis
 * version keeps the index and each room's lists in Redis (claims with SET NX, seqs with INCR) and
 * publishes pushes on a channel per room, each node delivering to its own members.
 */
import type { Bus } from './Bus';
import { Room } from './Room';

/** Told when a stream id leaves a room of the app, however it leaves (its cap lease is given back). */
export type StreamRemoved = (appid: number, streamId: string) => void;

export interface RoomStore {
  get(appid: number, roomId: string): Room | undefined;
  /** A new room (the caller checked it is absent and under the cap). */
  create(appid: number, roomId: string): Room;
  /** Puts back a room that a takeover emptied and removed meanwhile. */
  keep(appid: number, room: Room): void;
  delete(appid: number, roomId: string): void;
  all(): IterableIterator<Room>;
  readonly size: number;
  /** The room of the app that lists `streamId`, if any. */
  roomOfStream(appid: number, streamId: string): Room | undefined;
  readonly streamCount: number;
  dispose(): void;
}

export class MemoryRoomStore implements RoomStore {
  private readonly rooms = new Map<string, Room>();
  /** `${appid}\0${streamId}` -> the key of the room that lists it. */
  private readonly streamRooms = new Map<string, string>();

  constructor(
    private readonly settings: { bigimTimeWindowMs: number; userlistMergeMs: number },
    private readonly bus: Bus,
    private readonly onStreamRemoved: StreamRemoved = () => {},
  ) {}

  private key(appid: number, id: string): string {
    return `${appid}\u0000${id}`;
  }

  get(appid: number, roomId: string): Room | undefined {
    return this.rooms.get(this.key(appid, roomId));
  }

  create(appid: number, roomId: string): Room {
    const k = this.key(appid, roomId);
    const room = new Room(
      roomId,
      this.settings.bigimTimeWindowMs,
      this.settings.userlistMergeMs,
      {
        added: (id) => this.streamRooms.set(this.key(appid, id), k),
        removed: (id) => {
          if (this.streamRooms.get(this.key(appid, id)) === k) this.streamRooms.delete(this.key(appid, id));
          this.onStreamRemoved(appid, id);
        },
      },
      this.bus,
    );
    this.rooms.set(k, room);
    return room;
  }

  keep(appid: number, room: Room): void {
    this.rooms.set(this.key(appid, room.id), room);
  }

  delete(appid: number, roomId: string): void {
    this.rooms.delete(this.key(appid, roomId));
  }

  all(): IterableIterator<Room> {
    return this.rooms.values();
  }

  get size(): number {
    return this.rooms.size;
  }

  roomOfStream(appid: number, streamId: string): Room | undefined {
    const k = this.streamRooms.get(this.key(appid, streamId));
    return k === undefined ? undefined : this.rooms.get(k);
  }

  get streamCount(): number {
    return this.streamRooms.size;
  }

  dispose(): void {
    for (const r of this.rooms.values()) r.dispose();
  }
}
