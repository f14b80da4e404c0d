/**
 * The operator's tools with the whole media plane (real Chromium, Janus, ffmpeg and the origin, inside
 * scripts/netns.sh): a canvas publisher and a mix task, as the business server hears them (stream and
 * mix webhooks), as Prometheus sees them (Janus up and handles, publishers, mix tasks) and as the admin
 * API lists them (the mix task in the overview's tasks); end-stream from the admin API stops the page's
 * publishing (onPublishStateUpdate 1) and the business server hears the stream stop.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { mintLoginToken } from '../../src/server/auth/loginToken';
import { adminCall, WebhookReceiver } from '../helpers/adminClient';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { publishCanvas } from '../helpers/canvasPublisher';
import { APPID, loggedInPage } from '../helpers/mediaPage';
import { startMediaServer, type MediaServer } from '../helpers/mediaServer';

jest.setTimeout(180_000);

const SIGN = 'ab'.repeat(32);
const ADMIN = { appid: APPID, secret: 'admin-secret-0123456789abcdef' };
let hooks: WebhookReceiver;
let server: MediaServer;
let browser: Browser;
let context: BrowserContext;
let anchor: Page;

beforeAll(async () => {
  hooks = await new WebhookReceiver().start();
  server = await startMediaServer({
    apps: [
      {
        appid: APPID,
        appSign: SIGN,
        adminSecret: ADMIN.secret,
        webhookUrl: hooks.url,
        webhookEvents: ['stream.started', 'stream.stopped', 'mix.started', 'mix.stopped'],
      },
    ],
    relay: { all: false },
    metrics: { node: 'media-node' },
  });
  browser = await launchChromium();
  context = await browser.newContext();
  const token = mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'anchor' });
  anchor = await loggedInPage(context, server.url, 'anchor', 'ops-room', {}, token);
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
  await hooks?.stop();
});

async function until<T>(
  what: string,
  get: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const metric = async (name: string): Promise<number | undefined> => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name}\\{node="media-node"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};
const event = (type: string, pred: (d: Record<string, unknown>) => boolean = () => true) =>
  hooks.events().find((e) => e.type === type && pred(e.data));

test('a publisher and a mix task: webhooks, metrics and the admin overview; end-stream stops the page', async () => {
  await publishCanvas(anchor, 'red', { color: '#f00', hz: 440 });
  await until('stream.started', () => event('stream.started', (d) => d.streamId === 'red'));
  expect(await metric('zego_janus_up')).toBe(1);
  expect(await metric('zego_media_publishers')).toBe(1);
  expect(await metric('zego_janus_handles')).toBeGreaterThanOrEqual(1);

  const since = Date.now() - 1;
  const sent = await anchor.evaluate(
    (c) =>
      (window as any).zg.updateMixStream(
        c,
        (window as any).__record('mixOk'),
        (window as any).__record('mixErr'),
      ),
    {
      outputStreamId: 'opsmix',
      outputBitrate: 300_000,
      outputFps: 15,
      outputWidth: 320,
      outputHeight: 240,
      streamList: [{ streamId: 'red', top: 0, left: 0, bottom: 240, right: 320 }],
    },
  );
  expect(sent).toBe(true);
  await waitForEvent(anchor, 'mixOk', () => true, 30_000, since);
  const started = await until('mix.started', () => event('mix.started'));
  expect(started.data).toEqual({ roomId: 'ops-room', streamId: 'opsmix', owner: 'anchor', inputs: ['red'] });
  expect(await metric('zego_mix_tasks')).toBe(1);
  const o = await adminCall(server.url, 'overview', {}, ADMIN);
  expect(o.body.data!.tasks).toEqual([
    expect.objectContaining({ kind: 'mix', roomId: 'ops-room', streamId: 'opsmix', owner: 'anchor' }),
  ]);
  expect(o.body.data!.nodes).toEqual([expect.objectContaining({ node: 'media-node', janus: 'up' })]);

  const stopAt = Date.now() - 1;
  await anchor.evaluate(() =>
    (window as any).zg.stopMixStream(
      { outputStreamId: 'opsmix' },
      (window as any).__record('stopOk'),
      (window as any).__record('stopErr'),
    ),
  );
  await waitForEvent(anchor, 'stopOk', () => true, 10_000, stopAt);
  const stopped = await until('mix.stopped', () => event('mix.stopped'));
  expect(stopped.data).toMatchObject({ streamId: 'opsmix', owner: 'anchor' });
  await until('no mix task', async () => (await metric('zego_mix_tasks')) === 0);

  const endAt = Date.now() - 1;
  const ended = await adminCall(server.url, 'end-stream', { streamId: 'red' }, ADMIN);
  expect(ended.body).toEqual({ code: 0, data: { roomId: 'ops-room', streamId: 'red' } });
  const st = await waitForEvent(
    anchor,
    'onPublishStateUpdate',
    (a) => a[1] === 'red' && a[0] === 1,
    10_000,
    endAt,
  );
  expect(st.args[0]).toBe(1);
  await until('stream.stopped', () => event('stream.stopped', (d) => d.streamId === 'red'));
  await until('no publisher', async () => (await metric('zego_media_publishers')) === 0);
});
