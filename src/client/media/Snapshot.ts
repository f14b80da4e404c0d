/**
 * takeSnapShot / saveSnapShot (seed 3.6, statics): the frame a `<video>` shows, at the video's own size.
 * As 1.12.5: nothing (an error logged) for a missing video or one without a frame yet (videoHeight 0);
 * the `<img>` gets a JPEG data URL; the download is the canvas' default PNG, which 1.12.5 named
 * "<name>.jpeg" and we name "<name>.png".
 */
import type { PagePlatform } from '../platform/Platform';

function frameOf(page: PagePlatform | undefined, video: HTMLVideoElement): HTMLCanvasElement | null {
  if (!page || !video || !video.videoHeight) return null;
  const c = page.canvas();
  c.width = video.videoWidth;
  c.height = video.videoHeight;
  c.getContext('2d')!.drawImage(video, 0, 0, c.width, c.height);
  return c;
}

export function takeSnapShot(
  page: PagePlatform | undefined,
  video: HTMLVideoElement,
  img: HTMLImageElement,
): boolean {
  const c = img && frameOf(page, video);
  if (c) img.src = c.toDataURL('image/jpeg');
  return !!c;
}

export function saveSnapShot(page: PagePlatform | undefined, video: HTMLVideoElement, name: string): boolean {
  const c = frameOf(page, video);
  if (c) c.toBlob((b) => b && page!.save([b], 'image/png', `${name}.png`));
  return !!c;
}
