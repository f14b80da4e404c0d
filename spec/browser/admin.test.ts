/**
 * The operator page (/admin) in real Chromium against the built server, with raw legacy clients in the
 * rooms over real WebSockets: the page signs its calls with WebCrypto, shows nodes, rooms, users and
 * streams with live counts and the last hour's chart, and kicks, closes and ends from its buttons (the
 * clients hear push_kickout and stream deletions). A wrong secret is shown as the API's error.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, startBuiltServer, type BuiltServer } from '../helpers/browser';
import { APPID, Raw, SIGN } from '../helpers/rawRoom';

jest.setTimeout(120_000);

const SECRET = 'admin-secret-0123456789abcdef';
let server: BuiltServer;
let browser: Browser;
let context: BrowserContext;
const clients: Raw[] = [];

beforeAll(async () => {
  server = await startBuiltServer({
    apps: [{ appid: APPID, appSign: SIGN, adminSecret: SECRET }],
    room: { heartbeatMs: 60_000 },
    admin: {
      sampleEveryMs: 200,
      addressRequestsPerSecond: 200,
      addressBurst: 400,
      appRequestsPerSecond: 200,
      appBurst: 400,
    },
    metrics: { node: 'node-a' },
  });
  browser = await launchChromium();
  context = await browser.newContext();
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.ws?.terminate();
  await context?.close();
  await browser?.close();
  await server?.close();
});

async function user(idName: string, room: string): Promise<Raw> {
  const c = new Raw(server.url.replace(/^http/, 'ws') + '/ws', idName, room);
  clients.push(c);
  const r = await c.login();
  expect(r.body.err_code).toBe(0);
  return c;
}

async function openAdmin(secret = SECRET): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  const res = await page.goto(`${server.url}/admin?every=250`);
  expect(res?.status()).toBe(200);
  expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
  await page.fill('#appid', String(APPID));
  await page.fill('#secret', secret);
  await page.click('#connect');
  expect(errors).toEqual([]);
  return page;
}

const text = (page: Page, sel: string) => page.locator(sel).textContent();

test('counts, nodes, rooms, users, streams and the chart, live', async () => {
  const alice = await user('alice', 'room-a');
  await user('bob', 'room-a');
  await user('carol', 'room-b');
  await alice.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: 'cam-alice', extra_info: '' }),
  });
  const page = await openAdmin();
  await page.waitForFunction(() => document.getElementById('count-users')?.textContent === '3');
  expect(await text(page, '#count-rooms')).toBe('2');
  expect(await text(page, '#count-streams')).toBe('1');
  expect(await page.locator('#nodes tbody tr td').first().textContent()).toBe('node-a');
  expect(
    await page.locator('#rooms tbody tr').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.room)),
  ).toEqual(['room-a', 'room-b']);
  expect(await page.locator('#streams tbody tr').first().textContent()).toContain('cam-alice');
  // The chart has samples of the last hour: users up to 3.
  await page.waitForFunction(
    () => (document.getElementById('chart-users')?.getAttribute('points') ?? '').split(' ').length >= 2,
  );
  expect(Number(await text(page, '#chart-max'))).toBeGreaterThanOrEqual(3);

  // A new user appears without a reload.
  await user('dave', 'room-b');
  await page.waitForFunction(() => document.getElementById('count-users')?.textContent === '4');

  // Users of a room, and a kick from the page.
  await page.locator('#rooms tr[data-room="room-a"] button', { hasText: 'Users' }).click();
  await page.waitForSelector('#users tr[data-user="bob"]');
  const bob = clients.find((c) => c.idName === 'bob')!;
  await page.locator('#users tr[data-user="bob"] button', { hasText: 'Kick' }).click();
  await bob.push('push_kickout');
  await page.waitForFunction(() => !document.querySelector('#users tr[data-user="bob"]'));
  await page.waitForFunction(() => document.getElementById('count-users')?.textContent === '3');

  // End a stream from the page.
  await page.locator('#streams tr[data-stream="cam-alice"] button', { hasText: 'End' }).click();
  await page.waitForFunction(() => document.getElementById('count-streams')?.textContent === '0');

  // Close a room from the page: everyone in it is kicked.
  await page.locator('#rooms tr[data-room="room-b"] button', { hasText: 'Close' }).click();
  for (const id of ['carol', 'dave']) await clients.find((c) => c.idName === id)!.push('push_kickout');
  await page.waitForFunction(() => !document.querySelector('#rooms tr[data-room="room-b"]'));
  expect(await text(page, '#count-rooms')).toBe('1');
  // The secret is not kept in the form.
  expect(await page.inputValue('#secret')).toBe('');
  await page.close();
});

test('a wrong secret: the API error is shown and polling stops', async () => {
  const page = await openAdmin('wrong-secret-0123456789abcdef');
  await page.waitForFunction(() =>
    /bad_signature/.test(document.getElementById('status')?.textContent ?? ''),
  );
  expect(await page.locator('#view').isHidden()).toBe(true);
  await page.close();
});

test('names from pages are shown as text, never as markup', async () => {
  await user('<img src=x onerror="window.__owned=1">', '<b>room</b>');
  const page = await openAdmin();
  await page.waitForSelector('#rooms tr[data-room="<b>room</b>"]');
  await page.locator('#rooms tr[data-room="<b>room</b>"] button', { hasText: 'Users' }).click();
  await page.waitForSelector('#users tbody tr');
  expect(await page.locator('#users tbody tr td').first().textContent()).toBe(
    '<img src=x onerror="window.__owned=1">',
  );
  expect(await page.evaluate(() => (window as unknown as { __owned?: number }).__owned)).toBeUndefined();
  expect(await page.locator('#rooms b').count()).toBe(0);
  await page.close();
});
