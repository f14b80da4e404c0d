/**
 * Webhooks with many nodes: three real server processes and one real Redis, one real business server (an
 * HTTP receiver in the test). Every room, user and stream event goes out once across the cluster, with an id
 * derived from what the room step numbered (the same whichever node sends it); a node SIGKILLed: its users
 * get their user-left (`node_lost`) once, from the node that reaped it, and the room it leaves empty closes.
 */
import { WebhookReceiver } from '../helpers/adminClient';
import { GRACE_MS, NODE_TTL_MS, startCluster, wsOf, type Cluster } from '../helpers/nodes';
import { Raw } from '../helpers/rawRoom';

jest.setTimeout(60_000);

let cluster: Cluster;
let hooks: WebhookReceiver;
let raws: Raw[] = [];

beforeEach(async () => {
  hooks = await new WebhookReceiver().start();
  cluster = await startCluster(3, {
    app: { webhookUrl: hooks.url, webhookSecret: 'hook-secret-0123456789abcdef' },
    webhooks: { retryBaseMs: 50, retryMaxMs: 200 },
  });
});
afterEach(async () => {
  for (const r of raws) r.ws?.terminate();
  raws = [];
  await cluster.stop();
  await hooks.stop();
});

function raw(node: number, idName: string, room: string): Raw {
  const r = new Raw(wsOf(cluster.nodes[node]!), idName, room);
  raws.push(r);
  return r;
}

async function announce(r: Raw, sub: 2001 | 2002, id: string): Promise<number> {
  const f = await r.request('stream', {
    sub_cmd: sub,
    stream_msg: JSON.stringify({ stream_id: id, extra_info: '' }),
  });
  return f.body.err_code as number;
}

type Ev = ReturnType<WebhookReceiver['events']>[number];
/** `type room who/stream (reason)` of each event, in the order received. */
const said = (e: Ev) => {
  const d = e.data;
  const what = d.streamId ?? d.idName ?? '';
  return `${e.type} ${String(d.roomId)}${what ? ` ${String(what)}` : ''}${d.reason ? ` ${String(d.reason)}` : ''}`;
};

/** Waits (bounded) until every event named was received. */
async function heard(what: string, names: string[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!names.every((n) => hooks.events().some((e) => said(e) === n))) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}: ${hooks.events().map(said).join('; ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('every event once across three nodes; a killed node: its users leave once (node_lost), its room closes', async () => {
  // Room r1 spans nodes 0, 1 and 2; room r2 lives on node 2 only (it closes when node 2 dies).
  const a = raw(0, 'alice', 'r1');
  const b = raw(1, 'bob', 'r1');
  const z = raw(2, 'zed', 'r1');
  const y = raw(2, 'yan', 'r2');
  for (const r of [a, b, z, y]) expect((await r.login()).body.err_code).toBe(0);
  expect(await announce(a, 2001, 's-alice')).toBe(0);
  expect(await announce(b, 2001, 's-bob')).toBe(0);
  expect(await announce(z, 2001, 's-zed')).toBe(0);
  expect(await announce(y, 2001, 's-yan')).toBe(0);
  expect(await announce(b, 2002, 's-bob')).toBe(0);
  // alice logs out on node 0 (her stream ends with her, after no grace: a logout).
  await a.request('logout', {});
  const before = [
    'room.created r1',
    'room.created r2',
    'user.logged_in r1 alice',
    'user.logged_in r1 bob',
    'user.logged_in r1 zed',
    'user.logged_in r2 yan',
    'stream.started r1 s-alice',
    'stream.started r1 s-bob',
    'stream.started r1 s-zed',
    'stream.started r2 s-yan',
    'stream.stopped r1 s-bob',
    'user.logged_out r1 alice logout',
    'stream.stopped r1 s-alice',
  ];
  await heard('the events before the kill', before, 10_000);

  process.kill(cluster.nodes[2]!.pid, 'SIGKILL');
  const after = [
    'user.logged_out r1 zed node_lost',
    'user.logged_out r2 yan node_lost',
    'stream.stopped r1 s-zed',
    'stream.stopped r2 s-yan',
    'room.closed r2',
  ];
  await heard("the killed node's departures", after, NODE_TTL_MS * 4 + GRACE_MS + 5000);
  // Then bob leaves: the room closes with him (his node tells it).
  await b.request('logout', {});
  await heard('r1 closing', ['room.closed r1'], 10_000);
  // Anything late (a duplicate) has time to arrive.
  await new Promise((r) => setTimeout(r, NODE_TTL_MS * 2));

  const evs = hooks.events();
  const all = [...before, ...after, 'user.logged_out r1 bob logout', 'room.closed r1'].sort();
  expect(evs.map(said).sort()).toEqual(all);
  // One id per event, derived from what the room step numbered: none repeats.
  expect(new Set(evs.map((e) => e.id)).size).toBe(evs.length);
  for (const e of evs) expect(e.id).toMatch(/^evt_[0-9a-f]{32}$/);
});
