/**
 * The seams between the room plane, the media plane and live production (mixing and CDN relay,
 * src/server/mix): interfaces only, so the three never import one another. index.ts wires them.
 *
 * - The room plane hands `biz_channel` commands to a `LiveStreams` (mix/LiveService.ts) and asks it for a
 *   stream's CDN URLs when the stream is announced.
 * - Live production learns about publishers from a `PublisherDirectory` (media/MediaService.ts), forwards
 *   their RTP and enters mix outputs as publishers through the `MediaBackend`, and lists mix outputs in
 *   rooms through `RoomStreams` (room/RoomService.ts).
 */
import type { EventEmitter } from 'node:events';
import type { PushBody, StartMixBody, StopMixBody } from '../protocol/bizSchema';
import type { MixPlayInfo } from '../protocol/room';
import type { LegMedia, MediaLeg } from './media/MediaBackend';

/** Who sent a biz_channel command, and by which host name its page reaches us (URLs name it). */
export interface Caller {
  appid: number;
  roomId: string;
  idName: string;
  nickName: string;
  /** The Host header of the page's room socket ('' = unknown). */
  host: string;
}

/** A refused biz_channel command: a ServerCode and, for the page, extra reply fields (`rsp_body`). */
export class LiveError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly rspBody?: object,
  ) {
    super(message);
  }
}

/** CDN URLs of a stream, as stream lists carry them. */
export interface StreamUrls {
  urls_flv: string[];
  urls_m3u8: string[];
  urls_rtmp: string[];
  urls_https_flv: string[];
  urls_https_m3u8: string[];
}

export interface LiveStreams {
  startMix(who: Caller, body: StartMixBody): Promise<{ play: MixPlayInfo[] }>;
  stopMix(who: Caller, body: StopMixBody): Promise<void>;
  push(who: Caller, op: 'addpush' | 'delpush' | 'clearpush', body: PushBody): Promise<void>;
  /** A publish with `cdnUrl` (dispatch's header_kvs): relay the stream there once it is live. */
  cdnUrl(who: Caller, streamId: string, url: string): Promise<void>;
  /** The URLs a newly announced stream carries (relay of every stream), or null. */
  urlsFor(appid: number, streamId: string, host: string): StreamUrls | null;
  /** A room has no member left: its mix tasks end. */
  roomEmpty(appid: number, roomId: string): void;
  /** A user left for good: the mix tasks it started end. */
  userGone(appid: number, roomId: string, idName: string): void;
}

export interface PublisherDirectoryEvents {
  /** A publisher's media is up (first time or again): its leg can be forwarded. */
  publisherUp: [appid: number, streamId: string, leg: MediaLeg];
  /** A publisher's leg is gone (stopped, lost, replaced). */
  publisherDown: [appid: number, streamId: string];
}

export interface PublisherDirectory extends Pick<EventEmitter<PublisherDirectoryEvents>, 'on' | 'off'> {
  /** The live publisher leg of a stream of the app, if its media is up. */
  liveLeg(appid: number, streamId: string): MediaLeg | undefined;
  /** What a stream's publisher sends (its codecs), once its offer was answered; live or not yet. */
  mediaOf(appid: number, streamId: string): LegMedia | undefined;
  /** The room of a stream's publisher session, if it publishes. */
  roomOf(appid: number, streamId: string): string | undefined;
  /** A mix output as a publisher players can subscribe to (`leg` from MediaBackend.addRemotePublisher). */
  addVirtualPublisher(appid: number, roomId: string, streamId: string, leg: MediaLeg): void;
  removeVirtualPublisher(appid: number, streamId: string): void;
}

/** What live production asks of the room plane (the room state may be in Redis: every answer is a promise). */
export interface RoomStreams {
  isMember(appid: number, roomId: string, idName: string): Promise<boolean>;
  /** Lists a mix output in its room (12001 for everyone else), owned by the user who started the mix. */
  addStream(
    appid: number,
    roomId: string,
    owner: string,
    streamId: string,
    urls: StreamUrls,
  ): Promise<boolean>;
  /** The mix output leaves its room (12002). */
  removeStream(appid: number, roomId: string, streamId: string): Promise<void>;
  /** The idName listing a stream of the app, if any. */
  ownerOf(appid: number, streamId: string): Promise<string | undefined>;
  /** A stream id is taken in the app (published or listed). */
  streamTaken(appid: number, streamId: string): Promise<boolean>;
}
