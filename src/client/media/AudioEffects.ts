/**
 * preloadEffect / unloadEffect (seed 1.33, 1.37): effect files fetched and decoded once, by id, for every
 * stream of the client. As 1.12.5 an id stays taken until unloadEffect (preloading it again is refused);
 * an id whose load fails is free again. The errors are what 1.12.5 passed: the HTTP status text, or the
 * browser's decoding error (EncodingError for a file that is not audio).
 */
import { ClientErrorCode, type LegacyError } from '../../protocol/errors';
import type { AudioBufferLike, Platform } from '../platform/Platform';

export const paramError = (msg: string): LegacyError => ({ code: ClientErrorCode.Param, msg });

export class AudioEffects {
  /** null while loading. */
  private readonly buffers = new Map<number, AudioBufferLike | null>();

  constructor(private readonly platform: Platform) {}

  get(id: number): AudioBufferLike | null | undefined {
    return this.buffers.get(id);
  }

  async preload(id: number, url: string): Promise<void> {
    if (this.buffers.has(id)) throw paramError('effect id already loaded');
    this.buffers.set(id, null);
    try {
      const buffer = await this.decode(await this.platform.fetchBytes!(url));
      // Unloaded meanwhile: dropped.
      if (this.buffers.get(id) === null) this.buffers.set(id, buffer);
    } catch (e) {
      if (this.buffers.get(id) === null) this.buffers.delete(id);
      throw e;
    }
  }

  unload(id: number): void {
    this.buffers.delete(id);
  }

  /** An encoded audio file (effects, mixingBuffer) as a buffer to play. */
  async decode(bytes: ArrayBuffer): Promise<AudioBufferLike> {
    return this.platform.media!.decodeAudio!(bytes);
  }
}
