/**
 * Live production's children die with the server (real processes, inside scripts/netns.sh): with a mix
 * and a relay running, the server is SIGKILLed (no shutdown code runs) and nginx, the HTTP-FLV hub and
 * every ffmpeg are gone within seconds (PR_SET_PDEATHSIG through process/children.ts).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import { existsSync, readFileSync } from 'node:fs';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { publishCanvas } from '../helpers/canvasPublisher';
import { loggedInPage } from '../helpers/mediaPage';
import { startMediaServer } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

test('SIGKILL of the server takes nginx, the FLV hub and every ffmpeg with it', async () => {
  const server = await startMediaServer();
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const page = await loggedInPage(context, server.url, 'life-anchor', 'life-room');
    await publishCanvas(page, 'life', { color: '#ff0', hz: 440 });
    await page.evaluate(() =>
      (window as any).zg.updateMixStream(
        {
          outputStreamId: 'lifemix',
          outputBitrate: 300_000,
          outputFps: 10,
          outputWidth: 320,
          outputHeight: 240,
          streamList: [{ streamId: 'life', top: 0, left: 0, bottom: 240, right: 320 }],
        },
        (window as any).__record('mixOk'),
        (window as any).__record('mixErr'),
      ),
    );
    await waitForEvent(page, 'mixOk', () => true, 30_000);
    let live: any;
    const deadline = Date.now() + 15_000;
    for (;;) {
      live = ((await server.health()) as any).live;
      if (live.mixTasks[0]?.ffmpegPid && live.relays.some((r: any) => r.ffmpegPid)) break;
      if (Date.now() > deadline) throw new Error(`children not up: ${JSON.stringify(live)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const pids: number[] = [
      live.nginxPid,
      live.flvHubPid,
      live.mixTasks[0].ffmpegPid,
      ...live.relays.map((r: any) => r.ffmpegPid).filter(Boolean),
    ];
    // Whatever those children started themselves (an nginx worker would be one) must go too.
    for (const p of [...pids])
      for (const kid of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(/\s+/).filter(Boolean))
        pids.push(Number(kid));
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(pids.every(alive)).toBe(true);
    process.kill(server.pid, 'SIGKILL');
    const until = Date.now() + 5000;
    while (pids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
});
