/**
 * The audio output of a media element (setLocalAudioOutput, setPlayAudioOutput, the audioOutput of
 * startPlayingStream): `HTMLMediaElement.setSinkId`, where the browser has it. A device the browser
 * refuses is logged; the legacy calls report only whether the element can switch at all.
 */
import type { Logger } from '../core/Logger';

type SinkElement = HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };

/** Switches the element's output; false where setSinkId is missing (or there is no element). */
export function setSink(el: HTMLMediaElement | null | undefined, deviceId: string, log: Logger): boolean {
  const e = el as SinkElement | null | undefined;
  if (!e || typeof e.setSinkId !== 'function') return false;
  e.setSinkId(deviceId).catch((err: unknown) => log.warn(`setSinkId(${deviceId}) refused:`, err));
  return true;
}
