/**
 * Class 6 of issue 15: a school behind one address. With the default config, 1,000 pupils behind one
 * public address (127.0.0.50) start at once: each loads the script (its kept-alive connection stays open,
 * idle), logs in to its class's room and opens its media socket: all 2,000 sockets log in, none is
 * refused. The per-address bound still protects where it should: another address that opens connections
 * and never logs in is refused beyond limits.maxConnectionsPerIp (1,024), and the pupils are untouched.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Target } from './lib/harness';
import { fuzzConfig, sleep } from './lib/server';
import { mediaLogin, roomLogin, type MediaSession, type RoomSession } from './lib/sockets';

jest.setTimeout(240_000);

const PUPILS = 1000;
const SCHOOL = '127.0.0.50';
const OTHER = '127.0.0.51';
const PER_IP = 1024; // the default limits.maxConnectionsPerIp

// Default limits: only what a test run needs (quiet sockets must not expire meanwhile) is set.
const t = new Target(fuzzConfig({}));
beforeAll(() => t.start());
afterAll(() => t.stop());

/** GET the script with a kept-alive agent of its own (a pupil's browser), as a page load does. */
function loadScript(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/ZegoClient.js',
        agent,
        localAddress: SCHOOL,
        headers: { 'accept-encoding': 'br' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('page load: no answer in 60 s')));
    req.on('error', reject);
    req.end();
  });
}

test('1,000 pupils behind one address load the page and log in on both planes, all at once', async () => {
  const tokens = new Map<string, string>();
  for (let i = 0; i < PUPILS; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, PUPILS - i) }, async (_, k) => {
        const id = `pupil-${i + k}`;
        tokens.set(id, await t.srv.token(id));
      }),
    );
  const agents: Agent[] = [];
  const rooms: RoomSession[] = [];
  const media: MediaSession[] = [];
  let peakNotLoggedIn = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const h = (await t.srv.health(10_000).catch(() => null)) as {
        connections?: { notLoggedIn: number };
      } | null;
      peakNotLoggedIn = Math.max(peakNotLoggedIn, h?.connections?.notLoggedIn ?? 0);
      await sleep(100);
    }
  })();
  const failures: string[] = [];
  const t0 = Date.now();
  try {
    await Promise.all(
      Array.from({ length: PUPILS }, async (_, i) => {
        const id = `pupil-${i}`;
        try {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          agents.push(agent);
          const status = await loadScript(t.srv.port, agent);
          if (status !== 200) throw new Error(`script: ${status}`);
          const room = await roomLogin(t.srv, id, `class-${i % 30}`, {
            token: tokens.get(id),
            localAddress: SCHOOL,
          });
          rooms.push(room);
          media.push(
            await mediaLogin(t.srv, id, `class-${i % 30}`, { token: tokens.get(id), localAddress: SCHOOL }),
          );
        } catch (e) {
          failures.push(`${id}: ${(e as Error).message.slice(0, 200)}`);
        }
      }),
    );
  } finally {
    sampling = false;
    await sampler;
  }
  const took = Date.now() - t0;
  try {
    const h = (await t.srv.health()) as unknown as {
      users: number;
      connections: { refusedPerIp: number; refusedTotal: number; open: number };
    };
    console.log(
      `${PUPILS} pupils behind one address: ${rooms.length} room and ${media.length} media logins in ${took} ms; ` +
        `peak connections not logged in ${peakNotLoggedIn}; ${JSON.stringify(h.connections)}`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect([rooms.length, media.length]).toEqual([PUPILS, PUPILS]);
    expect(h.users).toBe(PUPILS + 1); // and the bystander
    expect(h.connections).toMatchObject({ refusedPerIp: 0, refusedTotal: 0 });

    // Another address that opens connections and never logs in: refused past its cap.
    const idle: Socket[] = [];
    let closedSoon = 0;
    for (let i = 0; i < PER_IP + 50; i++) {
      const s = connect({ host: '127.0.0.1', port: t.srv.port, localAddress: OTHER });
      s.on('error', () => {});
      s.once('close', () => closedSoon++);
      idle.push(s);
    }
    await sleep(1500);
    const after = (await t.srv.health()) as unknown as {
      users: number;
      connections: { refusedPerIp: number };
    };
    for (const s of idle) s.destroy();
    expect(after.connections.refusedPerIp).toBeGreaterThanOrEqual(50);
    expect(closedSoon).toBeGreaterThanOrEqual(50);
    // The pupils were not touched.
    expect(after.users).toBe(PUPILS + 1);
    expect(rooms.every((r) => r.sock.open) && media.every((m) => m.sock.open)).toBe(true);
    expect(await t.problems()).toEqual([]);
  } finally {
    for (const r of rooms) r.sock.terminate();
    for (const m of media) m.sock.terminate();
    for (const a of agents) a.destroy();
  }
});
