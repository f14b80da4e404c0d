/**
 * The fan-out of pushes to the members of a room (a seam: MemoryBus on one node; a Redis bus publishes on
 * a channel per room and each node delivers to its own members). See RoomStore.ts.
 */
import type { Member, Room } from './Room';

export interface Bus {
  /**
   * A push to the members of a room: every one but `except`, or only those named in `to`. `serialised`
   * is the body as JSON when the caller has it (one stringify for the whole fan-out).
   */
  deliver(
    room: Room,
    cmd: string,
    body: unknown,
    o?: { except?: Member; to?: Iterable<string>; serialised?: string },
  ): void;
}

/** Fan-out to the members connected to this process. */
export class MemoryBus implements Bus {
  deliver(
    room: Room,
    cmd: string,
    body: unknown,
    o: { except?: Member; to?: Iterable<string>; serialised?: string } = {},
  ): void {
    if (o.to) {
      for (const id of new Set(o.to)) room.members.get(id)?.push(cmd, body, o.serialised);
      return;
    }
    const serialised = o.serialised ?? JSON.stringify(body);
    for (const m of room.members.values()) if (m !== o.except) m.push(cmd, body, serialised);
  }
}
