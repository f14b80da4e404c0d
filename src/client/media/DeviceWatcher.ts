/**
 * Device hot-plug and failure (1.9.0+): `devicechange` compared with the devices seen before gives
 * OnVideoDeviceStateChanged({deviceInfo, state}) and OnAudioDeviceStateChanged({deviceType: 'Input' |
 * 'Output', deviceInfo, state}), `deviceInfo` = {deviceName, deviceID}, state 'DELETE' then 'ADD', cameras
 * then microphones then speakers (1.12.5's order). A capture track that ends by itself (its device failed
 * or was unplugged: browsers end the tracks of a device that goes) is an onDeviceError, once per track;
 * 1.12.5 matched the removed devices' labels with its publishers' instead, which the `ended` event
 * covers, previews included.
 * As 1.12.5 the watching starts with a preview (the device labels are known then). Each event is looked
 * at (1.12.5 waited 10 ms for the burst to settle): the lists are compared in the order they come back,
 * so a burst reports each change once.
 */
import type { Logger } from '../core/Logger';
import type { Platform } from '../platform/Platform';

export interface DeviceInfo {
  deviceName: string;
  deviceID: string;
}

export interface DeviceChange {
  deviceType?: 'Input' | 'Output';
  deviceInfo: DeviceInfo;
  state: 'ADD' | 'DELETE';
}

type Lists = Record<'cameras' | 'microphones' | 'speakers', DeviceInfo[]>;

export interface DeviceHooks {
  /** A capture track's device failed or went away (once per track). */
  failed(track: MediaStreamTrack): void;
  video(change: DeviceChange): void;
  audio(change: DeviceChange): void;
}

const KINDS = [
  ['cameras', undefined],
  ['microphones', 'Input'],
  ['speakers', 'Output'],
] as const;

export class DeviceWatcher {
  private last: Lists | null = null;
  private off: (() => void) | null = null;

  constructor(
    private readonly platform: Platform,
    private readonly hooks: DeviceHooks,
    private readonly log: Logger,
  ) {}

  /** Starts listening, the devices of now as the reference. */
  start(): void {
    const media = this.platform.media;
    if (this.off || !media || !media.onDeviceChange) return;
    this.off = media.onDeviceChange(() => void this.check());
    void this.check();
  }

  stop(): void {
    if (this.off) this.off();
    this.off = this.last = null;
  }

  /** A capture track: its `ended` (the browser ended it, not us: it fires once) is a device error. */
  watch(track: MediaStreamTrack): void {
    track.addEventListener('ended', () => this.hooks.failed(track));
  }

  private async check(): Promise<void> {
    let now: Lists;
    try {
      const all = await this.platform.media!.enumerateDevices();
      const pick = (kind: string) =>
        all.filter((d) => d.kind === kind).map((d) => ({ deviceName: d.label, deviceID: d.deviceId }));
      now = { cameras: pick('videoinput'), microphones: pick('audioinput'), speakers: pick('audiooutput') };
    } catch (e) {
      this.log.warn('devicechange:', e);
      return;
    }
    const was = this.last;
    if (!this.off) return;
    this.last = now;
    if (!was) return;
    const diff = (a: DeviceInfo[], b: DeviceInfo[]) =>
      a.filter((d) => !b.some((x) => x.deviceID === d.deviceID));
    for (const [state, from, to] of [
      ['DELETE', was, now],
      ['ADD', now, was],
    ] as const)
      for (const [k, deviceType] of KINDS)
        for (const deviceInfo of diff(from[k], to[k]))
          if (deviceType) this.hooks.audio({ deviceType, deviceInfo, state });
          else this.hooks.video({ deviceInfo, state });
  }
}
