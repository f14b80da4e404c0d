/**
 * Dispatch (legacy `webrtc_url` on the room socket): which media-signalling URLs serve a stream. As 1.12
 * builds it: no known signals, the CDN URL in `header_kvs` (grpc-metadata-push), retry 0. Any failure is
 * a DispatchFailure (timeout or not), which the stream maps to its Dispatch error.
 */
import { ClientErrorCode } from '../../protocol/errors';
import { DispatchFailure } from '../media/StreamSession';
import type { RoomSession } from './RoomSession';
import { ZegoError } from './ZegoError';

export class Dispatcher {
  constructor(private readonly session: () => RoomSession | null) {}

  async urls(streamId: string, ptype: 'push' | 'pull', cdnUrl: string): Promise<string[]> {
    const session = this.session();
    if (!session || session.state !== 'logged-in') throw new DispatchFailure(false);
    try {
      const r = await session.request().request('webrtc_url', {
        stream_id: streamId,
        ptype,
        signals: [],
        header_kvs: [{ key: 'grpc-metadata-push', value: cdnUrl }],
        retry: 0,
      });
      return r.urls ?? [];
    } catch (e) {
      const z = e instanceof ZegoError ? e : null;
      // A refused cdnUrl says why (other dispatch errors keep 1.12's bare message).
      throw new DispatchFailure(z?.code === ClientErrorCode.Timeout, z && /^cdnUrl/.test(z.msg) ? z.msg : '');
    }
  }
}
