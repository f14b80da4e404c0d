/**
 * Room events between nodes (many nodes): the RoomStore's scripts PUBLISH each event on its room's
 * channel; this node SUBSCRIBEs to the channels of the rooms it holds members in and hands every event to
 * LocalRooms. Redis delivers a channel's messages in publish order, and the scripts number them (`ev`), so
 * a node sees a room's changes in the order they happened. One subscriber connection per node; ioredis
 * subscribes again after a reconnection.
 */
import type Redis from 'ioredis';
import type { Bus, EventSink } from '../room/Bus';
import type { RoomEvent } from '../room/events';

export class RedisBus implements Bus {
  private sink: EventSink = () => {};
  private readonly chPrefix: string;

  constructor(
    private readonly sub: Redis,
    prefix: string,
    private readonly onBad: (why: string) => void = () => {},
  ) {
    this.chPrefix = `${prefix}ch:`;
    sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
  }

  private channel(appid: number, roomId: string): string {
    return `${this.chPrefix}${appid}:${roomId}`;
  }

  private onMessage(channel: string, text: string): void {
    if (!channel.startsWith(this.chPrefix)) return;
    const rest = channel.slice(this.chPrefix.length);
    const i = rest.indexOf(':');
    let e: RoomEvent;
    try {
      e = JSON.parse(text) as RoomEvent;
    } catch {
      this.onBad(`an event that is not JSON on ${channel}`);
      return;
    }
    this.sink(Number(rest.slice(0, i)), rest.slice(i + 1), e);
  }

  async listen(appid: number, roomId: string): Promise<void> {
    await this.sub.subscribe(this.channel(appid, roomId));
  }

  unlisten(appid: number, roomId: string): void {
    this.sub.unsubscribe(this.channel(appid, roomId)).catch(() => {});
  }

  setSink(sink: EventSink): void {
    this.sink = sink;
  }
}
