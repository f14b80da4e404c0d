/** @jest-environment node */
/** `zegoclient-server token` / `stream-params` (runTokenCli) and the dev-mode `GET /token`. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyRoomToken } from '../../../src/server/auth/roomToken';
import { checkStreamParams } from '../../../src/server/auth/streamToken';
import { resolveConfig, startServer, type ServerOptions } from '../../../src/server';
import { runTokenCli } from '../../../src/server/tokenCli';

const APPID = 1739272706;
const SIGN = 'ab'.repeat(32);
const SECRET = '0123456789abcdefghijklmnopqrstuv';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'zego-token-cli-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, options: ServerOptions | string): string {
  const f = join(dir, name);
  writeFileSync(f, typeof options === 'string' ? options : JSON.stringify(options));
  return f;
}

function run(cmd: 'token' | 'stream-params', argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const status = runTokenCli(cmd, argv, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err };
}

const PROD: ServerOptions = {
  apps: [
    { appid: APPID, appSign: SIGN, serverSecret: SECRET, streamAuth: true },
    { appid: 7, appSign: SIGN },
    { appid: 8, appSign: SIGN, serverSecret: SECRET, allowV1Token: false },
  ],
};

test('token: 04 by default for an app with a serverSecret, v1 on request; both verify for that server', () => {
  const f = configFile('prod.json', PROD);
  const config = resolveConfig(PROD);
  const verify = (token: string, appid = APPID, roomId = 'r1') =>
    verifyRoomToken({ config, appid, idName: 'alice', roomId, token });
  const t04 = run('token', ['--appid', String(APPID), '--id-name', 'alice', '--config', f]);
  expect(t04).toMatchObject({ status: 0, err: '' });
  expect(t04.out).toMatch(/^04[A-Za-z0-9+/=]+\n$/);
  expect(verify(t04.out.trim()).code).toBe(0);
  const room = run('token', [`--appid=${APPID}`, '--id-name=alice', '--room', 'r1', '--config', f]);
  expect(verify(room.out.trim()).code).toBe(0);
  expect(verify(room.out.trim(), APPID, 'r2').code).toBe(1000000015);
  const v1 = run('token', ['--appid', String(APPID), '--id-name', 'alice', '--format', 'v1', '--config', f]);
  expect(v1.out.startsWith('e')).toBe(true);
  expect(verify(v1.out.trim()).code).toBe(0);
  // App 7 has no serverSecret: v1 is the default. ZEGO_CONFIG stands in for --config.
  const seven = run('token', ['--appid', '7', '--id-name', 'alice'], { ZEGO_CONFIG: f });
  expect(seven.status).toBe(0);
  expect(verify(seven.out.trim(), 7).code).toBe(0);
  // --ttl is honoured: an hour's token expires after an hour and a bit.
  const short = run('token', ['--appid', String(APPID), '--id-name', 'alice', '--ttl', '60', '--config', f]);
  const later = verifyRoomToken({
    config,
    appid: APPID,
    idName: 'alice',
    roomId: 'r1',
    token: short.out.trim(),
    now: Date.now() + 61_000,
  });
  expect(later.code).toBe(1010);
});

test('stream-params: verifies for the stream; a note when the app does not check them', () => {
  const f = configFile('prod2.json', PROD);
  const r = run('stream-params', ['--appid', String(APPID), '--stream', 'cam:1', '--config', f]);
  expect(r).toMatchObject({ status: 0, err: '' });
  const params = r.out.trim();
  expect(checkStreamParams({ appid: APPID, appSign: SIGN, streamId: 'cam:1', params })).toBeNull();
  expect(checkStreamParams({ appid: APPID, appSign: SIGN, streamId: 'cam', params })).not.toBeNull();
  const seven = run('stream-params', ['--appid', '7', '--stream', 's', '--config', f]);
  expect(seven.status).toBe(0);
  expect(seven.err).toMatch(/does not set "streamAuth": true/);
});

test.each([
  [['--id-name', 'a'], /--appid is required/],
  [['--appid', '0', '--id-name', 'a'], /--appid must be an integer from 1/],
  [['--appid', 'x', '--id-name', 'a'], /--appid must be an integer/],
  [['--appid', '5'], /--id-name is required/],
  [['--appid', '5', '--id-name', ''], /--id-name is required/],
  [['--appid', '5', '--id-name', 'a', '--bogus', '1'], /unknown argument "--bogus"/],
  [['--appid', '5', '--id-name', 'a', 'extra'], /unknown argument "extra"/],
  [['--appid', '5', '--id-name', 'a', '--appid', '6'], /--appid given twice/],
  [['--appid', '5', '--id-name'], /--id-name needs a value/],
  [['--appid', String(APPID), '--id-name', 'a', '--ttl', '0'], /--ttl must be an integer from 1 to 604800/],
  [['--appid', String(APPID), '--id-name', 'a', '--ttl', '604801'], /--ttl must be/],
  [['--appid', String(APPID), '--id-name', 'a', '--format', 'v3'], /--format must be 04 or v1/],
  [['--appid', '99', '--id-name', 'a'], /appid 99 is not in the config's apps/],
  [['--appid', '7', '--id-name', 'a', '--format', '04'], /app 7 has no serverSecret/],
  [['--appid', '8', '--id-name', 'a', '--format', 'v1'], /app 8 refuses v1 tokens \(allowV1Token: false\)/],
  [['--appid', String(APPID), '--id-name', 'a', '--format', 'v1', '--room', 'r'], /--room needs --format 04/],
])('token %j: exit 2, says why, prints the usage', (argv, why) => {
  const f = configFile('prod3.json', PROD);
  const r = run('token', [...argv, '--config', f]);
  expect(r.status).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(why);
  expect(r.err).toMatch(/usage:/);
});

test('bad config files and stream-params arguments: exit 2', () => {
  const missing = run('token', ['--appid', '5', '--id-name', 'a', '--config', join(dir, 'nope.json')]);
  expect(missing).toMatchObject({ status: 2, out: '' });
  expect(missing.err).toMatch(/cannot be read/);
  const notJson = run('token', ['--appid', '5', '--id-name', 'a', '--config', configFile('bad.json', '{')]);
  expect(notJson.err).toMatch(/not valid JSON/);
  const invalid = run('token', [
    '--appid',
    '5',
    '--id-name',
    'a',
    '--config',
    configFile('inv.json', { apps: [{ appid: 5, appSign: 'x' }] }),
  ]);
  expect(invalid).toMatchObject({ status: 2 });
  expect(invalid.err).toMatch(/apps\[0\]\.appSign/);
  const f = configFile('prod4.json', PROD);
  expect(run('stream-params', ['--appid', String(APPID), '--config', f]).err).toMatch(/--stream is required/);
  expect(run('stream-params', ['--appid', String(APPID), '--stream', 's', '--id-name', 'a']).status).toBe(2);
  expect(run('token', ['--help'])).toMatchObject({ status: 0, err: '' });
});

test('dev mode: refused with an explanation unless devAppSign is configured; then valid for that server', async () => {
  const none = run('token', ['--appid', '5', '--id-name', 'a']);
  expect(none.status).toBe(2);
  expect(none.err).toMatch(/random dev secret at\s+each start/);
  expect(none.err).toMatch(/devAppSign/);
  expect(none.err).toMatch(/GET \/token/);
  expect(run('stream-params', ['--appid', '5', '--stream', 's']).status).toBe(2);

  const options: ServerOptions = {
    devAppSign: SIGN,
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
  };
  const f = configFile('dev.json', options);
  const server = await startServer(options);
  try {
    for (const format of ['04', 'v1']) {
      const r = run('token', ['--appid', '5', '--id-name', 'a', '--format', format, '--config', f]);
      expect(r.status).toBe(0);
      const v = verifyRoomToken({
        config: server.config,
        appid: 5,
        idName: 'a',
        roomId: 'r',
        token: r.out.trim(),
      });
      expect(v.code).toBe(0);
    }
    expect(run('token', ['--appid', '5', '--id-name', 'a', '--config', f]).out.startsWith('04')).toBe(true);
    const sp = run('stream-params', ['--appid', '5', '--stream', 's', '--config', f]);
    expect(sp.status).toBe(0);
    expect(sp.err).toMatch(/dev-mode server does not check streamParams/);
  } finally {
    await server.close();
  }
});

test('GET /token in dev mode: v1 by default, format=04 with an optional room; bad queries are 400', async () => {
  const server = await startServer({ janus: { enabled: false }, port: 0, log: { level: 'silent' } });
  try {
    const get = async (q: string) => {
      const res = await fetch(`${server.url}/token?${q}`);
      return { status: res.status, text: await res.text() };
    };
    const verify = (token: string, roomId = 'r1') =>
      verifyRoomToken({ config: server.config, appid: 5, idName: 'zed', roomId, token }).code;
    const v1 = await get('app_id=5&id_name=zed');
    expect(v1.status).toBe(200);
    expect(v1.text.startsWith('e')).toBe(true);
    expect(verify(v1.text)).toBe(0);
    const t04 = await get('app_id=5&id_name=zed&format=04');
    expect(t04.text.startsWith('04')).toBe(true);
    expect(verify(t04.text)).toBe(0);
    const bound = await get('app_id=5&id_name=zed&format=04&room_id=r1');
    expect(verify(bound.text)).toBe(0);
    expect(verify(bound.text, 'r2')).toBe(1000000015);
    expect(await get('app_id=5&id_name=zed&format=v1')).toMatchObject({ status: 200 });
    expect(await get('app_id=5&id_name=zed&format=05')).toEqual({
      status: 400,
      text: 'format must be v1 or 04',
    });
    expect((await get('app_id=5&id_name=zed&room_id=r1')).status).toBe(400);
    expect((await get('app_id=5')).status).toBe(400);
    expect((await get(`app_id=5&id_name=${'x'.repeat(300)}`)).status).toBe(400);
    expect((await get(`app_id=5&id_name=zed&format=04&room_id=${'x'.repeat(300)}`)).status).toBe(400);
  } finally {
    await server.close();
  }
});
