/**
 * A fake of the page's DOM tools (Platform.page) for snapshots and recordings in jsdom (whose canvas
 * draws nothing and which has no MediaRecorder): a canvas that records what it drew and encodes it as a
 * description, a MediaRecorder with the browser's state machine (throwing on moves the browser refuses)
 * whose chunks the test emits, and `save` that records the object URLs and downloads.
 */
import type { PagePlatform } from '../../src/client/platform/Platform';

export class FakeCanvas {
  width = 300;
  height = 150;
  readonly drawn: { source: unknown; w: number; h: number }[] = [];
  getContext(kind: string) {
    if (kind !== '2d') return null;
    return {
      drawImage: (source: unknown, _x: number, _y: number, w: number, h: number) =>
        this.drawn.push({ source, w, h }),
    };
  }
  toDataURL(type = 'image/png'): string {
    return `data:${type};${this.width}x${this.height}`;
  }
  toBlob(cb: (b: Blob | null) => void, type = 'image/png'): void {
    cb(new Blob([`${this.width}x${this.height}`], { type }));
  }
}

export class FakeRecorder {
  state: 'inactive' | 'recording' | 'paused' = 'inactive';
  ondataavailable: ((e: { data: Blob }) => void) | null = null;
  onstop: (() => void) | null = null;
  timeslice: number | undefined;
  constructor(
    readonly stream: MediaStream,
    readonly mimeType: string,
  ) {}
  private move(from: string[], to: FakeRecorder['state']): void {
    if (!from.includes(this.state)) throw new Error(`InvalidStateError: ${this.state} -> ${to}`);
    this.state = to;
  }
  start(timeslice?: number): void {
    this.move(['inactive'], 'recording');
    this.timeslice = timeslice;
  }
  pause(): void {
    this.move(['recording'], 'paused');
  }
  resume(): void {
    this.move(['paused'], 'recording');
  }
  stop(): void {
    this.move(['recording', 'paused'], 'inactive');
    this.onstop?.();
  }
  /** A chunk of recorded bytes arrives. */
  emit(text: string): void {
    this.ondataavailable?.({ data: new Blob([text]) });
  }
}

export class FakePage implements PagePlatform {
  readonly canvases: FakeCanvas[] = [];
  readonly recorders: FakeRecorder[] = [];
  /** Types the browser records (the first of the list asked for that is here is used). */
  supported = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm', 'audio/webm'];
  /** Every save: the bytes' text, type, download name (undefined: none) and the URL returned. */
  readonly saves: { blob: Blob; type: string; name?: string; url: string }[] = [];

  canvas = (): HTMLCanvasElement => {
    const c = new FakeCanvas();
    this.canvases.push(c);
    return c as unknown as HTMLCanvasElement;
  };

  recorder = (stream: MediaStream, types: string[]): MediaRecorder => {
    // As a browser: no type asked (none supported) is its default, webm.
    const type = types.find((t) => this.supported.includes(t));
    const r = new FakeRecorder(stream, type ?? (types[0]!.startsWith('audio') ? 'audio/webm' : 'video/webm'));
    this.recorders.push(r);
    return r as unknown as MediaRecorder;
  };

  save = (parts: Blob[], type: string, name?: string): string => {
    const url = `blob:fake/${this.saves.length + 1}`;
    this.saves.push({ blob: new Blob(parts, { type }), type, name, url });
    return url;
  };

  /** The recorder made last. */
  get rec(): FakeRecorder {
    const r = this.recorders.at(-1);
    if (!r) throw new Error('no recorder was made');
    return r;
  }
}
