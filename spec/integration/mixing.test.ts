/**
 * biz_channel on the server without a media plane (janus.enabled false), through real ZegoClient
 * instances over real WebSockets: updateMixStream / stopMixStream / publishTarget get clear errors
 * (1000000018, no hang), 1.12.5's synchronous `false` for bad configs, and the room handler's own checks
 * (channel and command, req_body JSON, the inner schema) answer InvalidBody naming the field.
 */
import { startServer, type RunningServer } from '../../src/server';
import { APPID, SIGN, clientFactory, login, outcome } from '../helpers/roomClients';

jest.setTimeout(30_000);

let server: RunningServer;
const { newClient, releaseAll } = clientFactory(() => server.url);

beforeEach(async () => {
  server = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [{ appid: APPID, appSign: SIGN }],
  });
});
afterEach(async () => {
  releaseAll();
  await server.close();
});

const mixConfig = {
  outputStreamId: 'm1',
  outputBitrate: 300_000,
  outputFps: 15,
  outputWidth: 320,
  outputHeight: 240,
  streamList: [{ streamId: 's1', top: 0, left: 0, bottom: 240, right: 320 }],
};

test('without a media plane: mixing answers 1000000018 at once, never hangs', async () => {
  const { zg } = newClient('anchor');
  await login(zg, 'anchor');
  const r = await outcome((ok, err) => expect(zg.updateMixStream(mixConfig, ok, err)).toBe(true));
  expect(r.err).toEqual([
    { code: 'ZegoClient.Error.Server', msg: expect.stringMatching(/off.*code:1000000018/) },
    [],
  ]);
  const s = await outcome((ok, err) => zg.stopMixStream({ outputStreamId: 'm1' }, ok, err));
  expect(s.err?.[0]).toMatchObject({ msg: expect.stringContaining('code:1000000018') });
  // As 1.12.5: nothing sent without an output, inputs or a size.
  expect(zg.updateMixStream({ ...mixConfig, outputStreamId: undefined }, () => {})).toBe(false);
  expect(zg.updateMixStream({ ...mixConfig, streamList: [] }, () => {})).toBe(false);
  expect(zg.updateMixStream({ ...mixConfig, outputFps: 0 }, () => {})).toBe(false);
  expect(zg.updateMixStream({ ...mixConfig, outputBgImage: 'http://x' }, () => {})).toBe(false);
  expect(zg.stopMixStream({}, () => {})).toBe(false);
  // publishTarget: a stream this client does not publish, or a bad type: false, nothing sent.
  expect(zg.publishTarget({ streamId: 's1', type: 'addpush', pushUrl: 'rtmp://x/live/y' })).toBe(false);
  expect(zg.publishTarget({ streamId: 's1', type: 'push', pushUrl: 'rtmp://x/live/y' })).toBe(false);
  expect(zg.filterStreamList('s1')).toEqual([]);
});

test('the room handler checks biz_channel before live production sees it', async () => {
  const { zg } = newClient('raw');
  await login(zg, 'raw');
  const send = (channel: string, cmd: string, req_body: string) =>
    (zg.engine as unknown as { send: (c: string, b: object) => Promise<unknown> })
      .send('biz_channel', { channel, cmd, req_body })
      .then(
        () => 'ok',
        (e: { error: { msg: string } }) => e.error.msg,
      );
  expect(await send('media', 'start_mix', '{}')).toMatch(
    /start_mix is not on channel media.*code:1000000002/,
  );
  expect(await send('zeus', 'start_mix', 'not json')).toMatch(/req_body must be a JSON object string/);
  expect(await send('zeus', 'start_mix', JSON.stringify({ MixInput: [], MixOutput: [] }))).toMatch(
    /req_body.MixOutput must be an array of 1 to 1 items/,
  );
  expect(await send('media', 'addpush', JSON.stringify({ stream_id: 's', pushurl: 5 }))).toMatch(
    /req_body.pushurl must be a string/,
  );
  expect(await send('zeus', 'bogus', '{}')).toMatch(/cmd must be one of/);
});
