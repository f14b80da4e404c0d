/**
 * How a room's events (events.ts) reach the nodes that hold its members: a seam. MemoryBus (one node)
 * hands them over in-process, synchronously, as the store makes each change; the Redis bus
 * (redis/RedisBus.ts) subscribes this node to a channel per room it has members in, the store's atomic
 * steps publish on it, and every node delivers to its own members (LocalRooms).
 */
import type { RoomEvent } from './events';

/** Where a node's room events go (LocalRooms.onEvent). */
export type EventSink = (appid: number, roomId: string, e: RoomEvent) => void;

export interface Bus {
  /**
   * This node hears the room's events from now on: resolves once an event published after it is sure to
   * arrive (a Redis SUBSCRIBE is confirmed), so a login can run its step after it and miss nothing.
   */
  listen(appid: number, roomId: string): Promise<void>;
  /** This node has no member left in the room: it stops hearing it. */
  unlisten(appid: number, roomId: string): void;
  /** Where events go (set once). */
  setSink(sink: EventSink): void;
}

/** One node: the store's changes are delivered in-process, at once. */
export class MemoryBus implements Bus {
  private sink: EventSink = () => {};

  listen(): Promise<void> {
    return Promise.resolve();
  }

  unlisten(): void {}

  setSink(sink: EventSink): void {
    this.sink = sink;
  }

  publish(appid: number, roomId: string, e: RoomEvent): void {
    this.sink(appid, roomId, e);
  }
}
