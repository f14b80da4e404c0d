/**
 * The site of the legacy pages in spec/pages, as a business site serves them: its own origin (a plain
 * HTTP server on 127.0.0.1, port 0), the SDK as `jZego-rtc.js` next to the pages (under /original/: the
 * vendor's webrtc-zego@1.12.5 build; under /shim/: our dist/jZego-rtc.js), and its own `/token` (a
 * stand-in for the business server minting login tokens: it asks the dev server's /token). A page that
 * fetches its token from the SDK server's /token instead makes a cross-origin request.
 *
 * Also a WAV tone for Chromium's `--use-file-for-fake-audio-capture`, so the fake microphone is never
 * silent (its default beep lasts a few ms a second, which a 1 s sound-level sample mostly misses).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, type SdkFlavour } from './browser';

const PAGES = join(ROOT, 'spec', 'pages');
const SDK: Record<SdkFlavour, string> = {
  original: join(ROOT, 'node_modules', 'webrtc-zego', 'jZego-rtc.js'),
  shim: join(ROOT, 'dist', 'jZego-rtc.js'),
};
const TYPES: Record<string, string> = { html: 'text/html', js: 'text/javascript' };

export interface LegacySite {
  /** Origin, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

export async function startLegacySite(sdkServerUrl: string): Promise<LegacySite> {
  for (const f of Object.values(SDK))
    if (!existsSync(f)) throw new Error(`missing ${f} (npm ci / npm run build first)`);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    if (url.pathname === '/token') {
      fetch(`${sdkServerUrl}/token${url.search}`)
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'text/plain' });
          res.end(await r.text());
        })
        .catch((e: Error) => {
          res.writeHead(502);
          res.end(e.message);
        });
      return;
    }
    const m = /^\/(original|shim)\/([\w-]+\.(html|js))$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404);
      res.end();
      return;
    }
    const [, flavour, file, ext] = m as unknown as [string, SdkFlavour, string, string];
    const path = file === 'jZego-rtc.js' ? SDK[flavour] : join(PAGES, file);
    if (!existsSync(path)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[ext]!, 'cache-control': 'no-store' });
    res.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A page of the site with what a user would notice recorded: uncaught errors and alert() dialogs. */
export interface LegacyPage {
  page: Page;
  errors: string[];
  dialogs: string[];
}

export async function openLegacyPage(
  newPage: () => Promise<Page>,
  siteUrl: string,
  flavour: SdkFlavour,
  file: string,
  query: Record<string, string>,
): Promise<LegacyPage> {
  const page = await newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss().catch(() => {});
  });
  const qs = new URLSearchParams(query).toString();
  await page.goto(`${siteUrl}/${flavour}/${file}?${qs}`, { waitUntil: 'load', timeout: 15_000 });
  return { page, errors, dialogs };
}

/** A 16-bit mono PCM WAV: a `hz` sine at `amplitude` (0-1) for `seconds` (Chromium loops the file). */
export function writeToneWav(path: string, hz = 440, amplitude = 0.5, seconds = 2, rate = 48_000): void {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    buf.writeInt16LE(Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  writeFileSync(path, buf);
}
