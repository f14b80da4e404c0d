/**
 * Recovery as real pages see it (issue "Recovery"), in real Chromium against the real server process and
 * Janus (inside scripts/netns.sh), with the legacy backoff (no test shortcut) and retry budgets of 60 s:
 * - the server restarted (SIGTERM, a new one on the same port at once) with viewers that logged in
 *   before and after the publisher: every viewer decodes frames again, none hears state 1, none is left
 *   without the stream; three restarts in a row, because the failure this guards was an ordering race;
 * - SIGTERM while clients reconnect in a tight loop: the old process is gone within 1 s.
 * Each viewer page behaves like a legacy page: it plays what the login lists or the room adds, and stops
 * what the room deletes. Times are printed (measured, not asserted beyond generous bounds).
 */
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { devToken, waitForEvent } from '../helpers/browser';
import { APPID, events, loggedInPage, publish, startPreview } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(240_000);

// A fixed dev AppSign: tokens minted before a restart still verify after it (as an app's appSign does);
// a random one per start would end every session at the first restart (docs/deployment.md, Recovery).
const suite = useMediaSuite({ devAppSign: '5e'.repeat(32) });
const RETRY = { roomRetryTime: 60, streamRetryTime: 60 };

/** A viewer that plays what is listed or added and stops what is deleted, as legacy pages do. */
async function legacyViewer(idName: string, room: string): Promise<Page> {
  const page = await loggedInPage(suite.context, suite.server.url, idName, room, RETRY);
  await page.evaluate(() => {
    const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const zg = w.zg;
    const play = (id: string) => {
      let v = document.getElementById(`play-${id}`) as HTMLVideoElement | null;
      if (!v) {
        v = document.createElement('video');
        v.id = `play-${id}`;
        v.autoplay = true;
        v.muted = true;
        document.body.appendChild(v);
      }
      zg.startPlayingStream(id, v);
    };
    const record = w.__record('onStreamUpdated');
    zg.onStreamUpdated = (type: number, list: { stream_id: string }[]) => {
      record(type, list);
      for (const s of list) {
        if (type === 0) play(s.stream_id);
        else zg.stopPlayingStream(s.stream_id);
      }
    };
    // What the login listed (the initial login already happened: play what the room lists now).
    for (const s of zg.stateCenter.streamList ?? []) play(s.stream_id);
    w.__play = play;
  });
  return page;
}

/** Frames advancing on the page's <video> of the stream: two looks 300 ms apart, the count grew. */
async function flowing(page: Page, streamId: string): Promise<boolean> {
  const look = () =>
    page.evaluate((id) => {
      const v = document.getElementById(`play-${id}`) as HTMLVideoElement | null;
      return v && v.readyState >= 2 ? v.getVideoPlaybackQuality().totalVideoFrames : -1;
    }, streamId);
  const a = await look();
  await new Promise((r) => setTimeout(r, 300));
  const b = await look();
  return a >= 0 && b >= a + 3;
}

/** ms from t0 until frames flow on the page, polling; throws after `ms`. */
async function framesAgain(page: Page, streamId: string, t0: number, ms = 30_000): Promise<number> {
  const end = t0 + ms;
  while (Date.now() < end) {
    if (await flowing(page, streamId)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  const who = await page.evaluate(
    () => (window as unknown as { zg: { stateCenter: { idName: string } } }).zg.stateCenter.idName,
  );
  throw new Error(`no frames of ${streamId} on ${who} within ${ms} ms`);
}

test('server restarts: viewers from before and after the publisher all decode frames again, no state 1', async () => {
  const room = 'restart-room';
  const early = await legacyViewer('rs-early', room);
  const pub = await loggedInPage(suite.context, suite.server.url, 'rs-pub', room, RETRY);
  await startPreview(pub, 'local', { videoQuality: 1 });
  await publish(pub, 'rs-s1', 'local', { videoDecodeType: 'VP8' });
  const late = await legacyViewer('rs-late', room);
  for (const v of [early, late]) expect(await framesAgain(v, 'rs-s1', Date.now(), 15_000)).toBeGreaterThan(0);
  const figures: string[] = [];
  for (let round = 1; round <= 3; round++) {
    const t0 = Date.now();
    const { exitMs } = await suite.server.restart();
    const up = Date.now() - t0;
    let times: number[];
    try {
      times = [await framesAgain(early, 'rs-s1', t0), await framesAgain(late, 'rs-s1', t0)];
    } catch (e) {
      const dump = async (p: Page) =>
        JSON.stringify(await p.evaluate(() => (window as unknown as { __events: unknown[] }).__events)).slice(
          -3000,
        );
      throw new Error(
        `${(e as Error).message}\nearly: ${await dump(early)}\nlate: ${await dump(late)}\npub: ${await dump(pub)}\nserver: ${suite.server.output().slice(-1500)}`,
      );
    }
    figures.push(
      `round ${round}: old server exited in ${exitMs} ms, new one up at ${up} ms, frames again at ${times.join(' / ')} ms`,
    );
  }
  console.log(`server restart (SIGTERM, a new server at once, legacy backoff):\n  ${figures.join('\n  ')}`);
  for (const v of [early, late]) {
    expect((await events(v, 'onPlayStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
    expect(await flowing(v, 'rs-s1')).toBe(true);
  }
  expect((await events(pub, 'onPublishStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
  for (const p of [early, late, pub]) await p.close();
});

test('Janus killed, legacy backoff: the publisher and every viewer are back within seconds', async () => {
  const room = 'jk-room';
  const pub = await loggedInPage(suite.context, suite.server.url, 'jk-pub', room, RETRY);
  await startPreview(pub, 'local', { videoQuality: 1 });
  await publish(pub, 'jk-s1', 'local', { videoDecodeType: 'VP8' });
  const viewers = [await legacyViewer('jk-v1', room), await legacyViewer('jk-v2', room)];
  for (const v of viewers) expect(await framesAgain(v, 'jk-s1', Date.now(), 15_000)).toBeGreaterThan(0);
  const figures: string[] = [];
  for (let round = 1; round <= 3; round++) {
    const pid = (await suite.server.health()).media.janusPid as number;
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const back = await waitForEvent(pub, 'onPublishStateUpdate', (x) => x[0] === 0, 30_000, t0);
    const times = [];
    for (const v of viewers) times.push(await framesAgain(v, 'jk-s1', t0));
    figures.push(
      `round ${round}: publisher back at ${back.t - t0} ms, frames on the viewers at ${times.join(' / ')} ms`,
    );
  }
  console.log(`janus SIGKILL (legacy backoff):\n  ${figures.join('\n  ')}`);
  for (const v of viewers) {
    expect((await events(v, 'onPlayStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
    expect((await events(v, 'onStreamUpdated')).filter((x) => x[0] === 1)).toEqual([]);
  }
  for (const p of [pub, ...viewers]) await p.close();
});

test('SIGTERM while clients reconnect in a tight loop: the old process is gone within 1 s', async () => {
  const url = suite.server.url.replace('http', 'ws') + '/ws';
  let stop = false;
  let logins = 0;
  const loops = Array.from({ length: 20 }, async (_, i) => {
    const idName = `loop-${i}`;
    const token = await devToken(suite.server.url, APPID, idName);
    while (!stop) {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('open', () =>
          ws.send(
            JSON.stringify({
              header: {
                Protocol: 'req',
                cmd: 'login',
                appid: APPID,
                seq: 1,
                session_id: '',
                room_id: 'loop',
              },
              body: {
                id_name: idName,
                nick_name: idName,
                role: 2,
                token,
                version: '1.12.5',
                room_name: 'loop',
              },
            }),
          ),
        );
        ws.on('message', () => logins++);
        ws.on('error', () => {});
        ws.on('close', () => resolve());
        // Reconnect at once after a close (10-50 ms), as a client told to go elsewhere would.
        setTimeout(() => ws.terminate(), 3000);
      });
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  });
  await new Promise((r) => setTimeout(r, 1000));
  expect(logins).toBeGreaterThan(0);
  const { exitMs } = await suite.server.restart();
  stop = true;
  await Promise.all(loops);
  console.log(`SIGTERM with 20 clients reconnecting in a loop: the old server exited in ${exitMs} ms`);
  expect(exitMs).toBeLessThan(1000);
});
