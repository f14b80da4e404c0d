/**
 * The legacy callback getUserMedia, `navigator.getUserMedia(constraints, success, error)`, for pages
 * that still call it. jZego-rtc 1.12.5 bundled a webrtc-adapter whose shim installed it (and, on
 * Chromium, `webkitGetUserMedia`) over `navigator.mediaDevices.getUserMedia`; webrtc-adapter 9 no longer
 * does, and current browsers dropped the native ones, so such a page threw at its first capture.
 *
 * Installed by the global script (src/client/global.ts) where the browser lacks them, and over a native
 * one that is stricter than legacy pages expect: Chromium still has `navigator.getUserMedia` and
 * `webkitGetUserMedia`, but they require all three arguments ("3 arguments required"), while pages
 * written for 1.12.5 call `getUserMedia(constraints, success)` (the original's adapter had replaced the
 * native one with its own). A native function is told by its source text (`[native code]`) and its
 * arity (3 = the error callback is required); a function a page installed itself is never replaced.
 * The prefixed name goes only to its own engine (`mozGetUserMedia` on Firefox, `webkitGetUserMedia`
 * elsewhere), because browser-sniffing code, the original's adapter included, takes a
 * `mozGetUserMedia` to mean Firefox.
 */

type LegacyGum = (
  constraints: MediaStreamConstraints,
  success: (stream: MediaStream) => void,
  error?: (err: unknown) => void,
) => void;

interface LegacyNavigator {
  mediaDevices?: { getUserMedia?: (c: MediaStreamConstraints) => Promise<MediaStream> };
  userAgent?: string;
  getUserMedia?: LegacyGum;
  webkitGetUserMedia?: LegacyGum;
  mozGetUserMedia?: LegacyGum;
}

/** A browser's own callback getUserMedia that throws unless given the error callback too. */
function strictNative(fn: unknown): boolean {
  if (typeof fn !== 'function') return false;
  try {
    return fn.length >= 3 && /\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
  } catch {
    return false;
  }
}

/** Returns the names it installed (for tests and logs). */
export function installLegacyGetUserMedia(nav: LegacyNavigator | undefined): string[] {
  const md = nav?.mediaDevices;
  if (!nav || !md || typeof md.getUserMedia !== 'function') return [];
  const legacy: LegacyGum = (constraints, success, error) => {
    // Read at call time: a page (or a test) may wrap mediaDevices.getUserMedia later.
    nav.mediaDevices!.getUserMedia!(constraints).then(
      (stream) => success(stream),
      (err: unknown) => {
        if (typeof error === 'function') error(err);
      },
    );
  };
  const firefox = /firefox/i.test(nav.userAgent ?? '');
  const names: ('getUserMedia' | 'webkitGetUserMedia' | 'mozGetUserMedia')[] = [
    'getUserMedia',
    firefox ? 'mozGetUserMedia' : 'webkitGetUserMedia',
  ];
  const installed: string[] = [];
  for (const name of names) {
    if (typeof nav[name] === 'function' && !strictNative(nav[name])) continue;
    try {
      Object.defineProperty(nav, name, { value: legacy, configurable: true, writable: true });
      installed.push(name);
    } catch {
      /* a locked-down navigator: leave it */
    }
  }
  return installed;
}
