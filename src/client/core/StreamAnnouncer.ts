/**
 * Our published streams on the room (stream 2001 / 2002 / 2003): a publisher announces its stream once
 * ICE is up, ends it when it stops, updates its extra info; and after a room reconnection every live one
 * is announced again, because the server ended them with the old session.
 */
import type { MediaPlane } from '../media/MediaPlane';
import type { Logger } from './Logger';
import type { RoomSession } from './RoomSession';

export class StreamAnnouncer {
  constructor(
    private readonly session: () => RoomSession | null,
    private readonly media: () => MediaPlane,
    private readonly log: Logger,
  ) {}

  private live(): RoomSession | null {
    const s = this.session();
    return s?.state === 'logged-in' ? s : null;
  }

  /** A publisher went live (nothing to do without a logged-in room: the reconnection announces it). */
  async announce(streamId: string, extraInfo: string): Promise<void> {
    await this.live()?.announceStream(streamId, extraInfo);
  }

  end(streamId: string): void {
    this.live()
      ?.endStream(streamId)
      .catch((e: unknown) => this.log.warn(`ending stream ${streamId} on the room failed:`, e));
  }

  /** updateStreamExtraInfo; false without a room session. */
  update(streamId: string, extraInfo: string): boolean {
    const s = this.session();
    if (!s) return false;
    this.media().setExtraInfo(streamId, extraInfo);
    s.updateStream(streamId, extraInfo).catch((e: unknown) =>
      this.log.warn('updateStreamExtraInfo failed:', e),
    );
    return true;
  }

  /** The room came back: our live streams are announced again. */
  reannounce(): void {
    const s = this.live();
    if (!s) return;
    for (const [id, extra] of this.media().liveStreams())
      s.announceStream(id, extra).catch((e: unknown) =>
        this.log.warn(`announcing ${id} again after the reconnection failed:`, e),
      );
  }
}
