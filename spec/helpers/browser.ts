/**
 * Shared harness for the browser and compatibility suites: a real server (the built dist/server), real
 * Debian Chromium driven by playwright-core, pages that load a ZegoClient script through a <script> tag.
 *
 * Every page records the callbacks it receives in `window.__events` ({name, args, t}); tests wait for them
 * with a bounded `waitForEvent`. Nothing leaves 127.0.0.0/8: host resolution is mapped to NOTFOUND except
 * for 127.0.0.1 (the original SDK otherwise opens a remote-log socket to a vendor host).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ORIGINAL_SDK = join(ROOT, 'node_modules', 'webrtc-zego', 'jZego-rtc.js');

/** The built server module (tests of built artefacts load dist/, never src/). */
export interface BuiltServer {
  port: number;
  host: string;
  url: string;
  close(): Promise<void>;
}
type StartServer = (options?: Record<string, unknown>) => Promise<BuiltServer>;

export function loadBuiltServer(): StartServer {
  const entry = join(ROOT, 'dist', 'server', 'index.js');
  if (!existsSync(entry)) throw new Error(`built server missing: ${entry} (run "npm run build" first)`);
  if (!existsSync(join(ROOT, 'dist', 'ZegoClient.js')))
    throw new Error('dist/ZegoClient.js missing (run "npm run build")');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(entry) as { startServer: StartServer }).startServer;
}

export async function startBuiltServer(options: Record<string, unknown> = {}): Promise<BuiltServer> {
  const startServer = loadBuiltServer();
  return startServer({
    host: '127.0.0.1',
    port: 0,
    log: { level: 'silent' },
    janus: { enabled: false },
    ...options,
  });
}

/**
 * `extraArgs`: more Chromium switches (e.g. `--use-file-for-fake-audio-capture=<wav>`); `without`: default
 * switches to leave out (e.g. `--use-fake-ui-for-media-stream`, which makes getDisplayMedia return a fake
 * screen instead of the tab `--auto-select-tab-capture-source-by-title` picks).
 */
export async function launchChromium(
  extraArgs: string[] = [],
  without: string[] = [],
  /** Another executable (a wrapper that enters a network namespace, spec/helpers/browserNetns.ts). */
  executablePath = CHROMIUM,
): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH)`,
    );
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
      // Hermetic: nothing but 127.0.0.1 resolves.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ...extraArgs,
    ].filter((a) => !without.includes(a)),
  });
}

export type SdkFlavour = 'shim' | 'original';

/**
 * Opens a page at the server's origin that loads one SDK through a <script> tag:
 *  - 'shim': the server's own /ZegoClient.js (the built dist file, served as a page would load it);
 *  - 'original': webrtc-zego@1.12.5's jZego-rtc.js (served by a route, never committed).
 */
export async function openSdkPage(
  context: BrowserContext,
  serverUrl: string,
  flavour: SdkFlavour,
  /** A page of the context to use (one with init scripts already added); default a new one. */
  given?: Page,
): Promise<Page> {
  const page = given ?? (await context.newPage());
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.stack ?? e.message}`));
  (page as Page & { consoleLines?: string[] }).consoleLines = consoleLines;
  // No page.route here: with request interception on, Chromium's WebSockets from the page fail (1006).
  // The page is the server's own origin (/healthz), rewritten with setContent, so scripts load as on a site.
  await page.goto(`${serverUrl}/healthz`, { timeout: 15_000 });
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>`);
  await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown> & { __events: unknown[] };
    w.__events = [];
    w.__record = function (name: string) {
      return function (...raw: unknown[]) {
        let args: unknown[];
        try {
          args = JSON.parse(JSON.stringify(raw)) as unknown[];
        } catch (e) {
          args = [String(e)];
        }
        w.__events.push({ name, args, t: Date.now() });
      };
    };
  });
  if (flavour === 'shim') await page.addScriptTag({ url: '/ZegoClient.js' });
  else await page.addScriptTag({ content: readFileSync(ORIGINAL_SDK, 'utf8') });
  const loaded = await page.evaluate(() => typeof (window as unknown as { ZegoClient?: unknown }).ZegoClient);
  if (loaded !== 'function') throw new Error(`${flavour} SDK did not define window.ZegoClient (${loaded})`);
  return page;
}

export interface RecordedEvent {
  name: string;
  args: unknown[];
  t: number;
}

/** Waits (bounded) until the page has recorded an event with this name whose args satisfy `match`. */
export async function waitForEvent(
  page: Page,
  name: string,
  match: (args: unknown[]) => boolean = () => true,
  timeoutMs = 10_000,
  /** Only events recorded at or after this time (ms since the epoch, same clock as the page). */
  since = 0,
): Promise<RecordedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events =
      (await page.evaluate(() => (window as unknown as { __events: RecordedEvent[] }).__events)) || [];
    const hit = events.find((e) => e.name === name && e.t >= since && match(e.args));
    if (hit) return hit;
    if (Date.now() > deadline) {
      const seen = events.map((e) => `${e.name}(${JSON.stringify(e.args).slice(0, 160)})`).join('\n  ');
      const logs = ((page as Page & { consoleLines?: string[] }).consoleLines || []).slice(-15).join('\n  ');
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${name}\n events seen:\n  ${seen}\n console:\n  ${logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Gets a dev-mode login token from the server's /token endpoint (the old demo token service's shape). */
export async function devToken(serverUrl: string, appid: number, idName: string): Promise<string> {
  const res = await fetch(`${serverUrl}/token?app_id=${appid}&id_name=${encodeURIComponent(idName)}`);
  if (!res.ok) throw new Error(`/token answered ${res.status}`);
  return res.text();
}

export interface BrowserSuite {
  server: BuiltServer;
  browser: Browser;
  context: BrowserContext;
}

/**
 * Registers beforeAll/afterAll that start a built server and one Chromium for the whole file. Returns an
 * object whose fields are filled in by beforeAll.
 */
export function useServerAndBrowser(): BrowserSuite {
  const suite = {} as BrowserSuite;
  beforeAll(async () => {
    suite.server = await startBuiltServer();
    suite.browser = await launchChromium();
    suite.context = await suite.browser.newContext();
  });
  afterAll(async () => {
    await suite.context?.close();
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}
