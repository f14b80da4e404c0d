/**
 * The client logger: config.logLevel on the console (1.12.5's levels, info by default, 100 off), and the
 * remote log: lines at or above remoteLogLevel shipped in batches (`client_log` on the room socket) only
 * when the page asked (remoteLogLevel or logUrl) and the server's login reply took them, never to the
 * page's logUrl host; bounded lines, batches and buffer; no timer at load.
 */
import { CLIENT_LOG_LINE_BYTES, CLIENT_LOG_MAX_LINES, utf8Length } from '../../../src/protocol/constants';
import { Logger, textOf, type LogLine } from '../../../src/client/core/Logger';
import { RemoteLog, REMOTE_LOG_FLUSH_LINES, REMOTE_LOG_FLUSH_MS } from '../../../src/client/core/RemoteLog';
import { ZegoClient } from '../../../src/client/compat/ZegoClient';
import { FakePlatform, type Frame } from '../../fakes/FakePlatform';
import { loggedIn, newHarness } from '../../fakes/clientHarness';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Level[] = ['debug', 'info', 'warn', 'error'];

/** Spies on the four console methods for the test's duration; returns which levels printed. */
function consoleSpy(): { printed: () => Level[]; restore: () => void } {
  const spies = LEVELS.map((l) => jest.spyOn(console, l).mockImplementation(() => {}));
  return {
    printed: () => LEVELS.filter((_, i) => spies[i]!.mock.calls.length > 0),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

function writeAll(log: Logger): void {
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
}

describe('Logger: console levels (1.12.5 ENUM_LOG_LEVEL)', () => {
  test.each([
    [{}, ['info', 'warn', 'error']], // the original's default: info
    [{ logLevel: 0 }, ['debug', 'info', 'warn', 'error']],
    [{ logLevel: 1 }, ['info', 'warn', 'error']],
    [{ logLevel: 2 }, ['warn', 'error']],
    [{ logLevel: 3 }, ['error']],
    [{ logLevel: 99 }, []], // "report": nothing a page sees
    [{ logLevel: 100 }, []], // disable
    [{ logLevel: '0' }, ['info', 'warn', 'error']], // not a number: the default
  ])('config %p prints %p', (cfg, expected) => {
    const c = consoleSpy();
    try {
      const log = new Logger();
      log.configure(cfg);
      writeAll(log);
      expect(c.printed()).toEqual(expected);
    } finally {
      c.restore();
    }
  });

  test('the prefix and the arguments go to the console as they are (objects inspectable)', () => {
    const spy = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const obj = { a: 1 };
    new Logger().warn('x', obj);
    expect(spy.mock.calls).toEqual([['[ZegoClient]', 'x', obj]]);
    spy.mockRestore();
  });

  test('remote: remoteLogLevel, or 0 when only logUrl is set (as 1.12.5), else nothing is wanted', () => {
    const wanted = (cfg: object) => {
      const log = new Logger();
      log.configure(cfg);
      return log.remoteWanted;
    };
    expect(wanted({})).toBe(false);
    expect(wanted({ logUrl: '' })).toBe(false);
    expect(wanted({ remoteLogLevel: 100 })).toBe(false);
    expect(wanted({ remoteLogLevel: 100, logUrl: 'wss://logs.example.invalid/log' })).toBe(false);
    expect(wanted({ remoteLogLevel: 3 })).toBe(true);
    expect(wanted({ logUrl: 'https://logs.example.invalid/log' })).toBe(true);
    const lines: LogLine[] = [];
    const log = new Logger(() => 42);
    log.configure({ logLevel: 100, remoteLogLevel: 2 });
    log.setSink((l) => lines.push(l));
    writeAll(log);
    log.local(3, 'console only');
    expect(lines).toEqual([
      { level: 2, time: 42, text: 'w' },
      { level: 3, time: 42, text: 'e' },
    ]);
  });

  test('textOf: strings as they are, errors by name and message, objects as JSON', () => {
    expect(textOf('a b')).toBe('a b');
    expect(textOf(new TypeError('bad'))).toBe('TypeError: bad');
    expect(textOf({ code: 'x', msg: 'y' })).toBe('{"code":"x","msg":"y"}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(textOf(cyclic)).toBe('[object Object]');
    expect(textOf(undefined)).toBe('undefined');
  });
});

describe('RemoteLog: batches', () => {
  const line = (i: number, text = `line ${i}`): LogLine => ({ level: 1, time: i, text });

  function shipper() {
    const platform = new FakePlatform();
    const sent: LogLine[][] = [];
    const errors: unknown[] = [];
    const r = new RemoteLog(platform, (e) => errors.push(e));
    return { platform, sent, errors, r, send: (logs: LogLine[]) => (sent.push(logs), Promise.resolve()) };
  }

  test('nothing is sent and no timer runs until a sender is attached; then what waited goes at once', async () => {
    const { platform, sent, r, send } = shipper();
    r.add(line(1));
    r.add(line(2));
    expect(platform.pendingTimers).toBe(0);
    r.attach(send);
    expect(sent).toEqual([[line(1), line(2)]]);
    expect(platform.pendingTimers).toBe(0);
  });

  test(`every ${REMOTE_LOG_FLUSH_MS} ms, or at once at ${REMOTE_LOG_FLUSH_LINES} lines`, async () => {
    const { platform, sent, r, send } = shipper();
    r.attach(send);
    r.add(line(1));
    await platform.advance(REMOTE_LOG_FLUSH_MS - 1);
    expect(sent).toEqual([]);
    await platform.advance(1);
    expect(sent).toEqual([[line(1)]]);
    for (let i = 0; i < REMOTE_LOG_FLUSH_LINES - 1; i++) r.add(line(i));
    expect(sent).toHaveLength(1);
    r.add(line(99));
    expect(sent).toHaveLength(2);
    expect(sent[1]).toHaveLength(REMOTE_LOG_FLUSH_LINES);
    expect(platform.pendingTimers).toBe(0);
  });

  test(`at most ${CLIENT_LOG_MAX_LINES} lines wait (the oldest go, and the next batch says how many)`, () => {
    const { sent, r, send } = shipper();
    for (let i = 0; i < CLIENT_LOG_MAX_LINES + 7; i++) r.add(line(i));
    r.attach(send);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toHaveLength(CLIENT_LOG_MAX_LINES);
    expect(sent[0]![0]!.text).toBe('(7 earlier lines dropped) line 7');
    expect(sent[0]!.at(-1)!.text).toBe(`line ${CLIENT_LOG_MAX_LINES + 6}`);
  });

  test(`each line is cut to ${CLIENT_LOG_LINE_BYTES} UTF-8 bytes (a character is never split)`, () => {
    const { sent, r, send } = shipper();
    r.attach(send);
    r.add(line(1, 'a'.repeat(2000)));
    r.add(line(2, 'é'.repeat(300))); // 600 bytes
    r.add(line(3, 'x' + '😀'.repeat(200))); // 1 + 800 bytes
    r.flush();
    const texts = sent[0]!.map((l) => l.text);
    expect(texts[0]).toBe('a'.repeat(CLIENT_LOG_LINE_BYTES));
    expect(texts[1]).toBe('é'.repeat(256));
    expect(texts[2]).toBe('x' + '😀'.repeat(127));
    for (const t of texts) expect(utf8Length(t)).toBeLessThanOrEqual(CLIENT_LOG_LINE_BYTES);
  });

  test('detached (reconnecting), lines wait; a failed send is reported, never thrown', async () => {
    const { platform, sent, errors, r, send } = shipper();
    r.attach(() => Promise.reject(new Error('socket gone')));
    r.add(line(1));
    await platform.advance(REMOTE_LOG_FLUSH_MS);
    expect(errors).toHaveLength(1);
    r.detach();
    r.add(line(2));
    await platform.advance(REMOTE_LOG_FLUSH_MS * 3);
    expect(platform.pendingTimers).toBe(0);
    r.attach(send);
    expect(sent).toEqual([[line(2)]]);
  });
});

describe('through ZegoClient', () => {
  const logFrames = (h: { platform: FakePlatform }): Frame[] =>
    h.platform.sockets.flatMap((s) => s.sentCmd('client_log'));
  const shipped = (h: { platform: FakePlatform }) => logFrames(h).flatMap((f) => f.body.logs as LogLine[]);

  test('remoteLogLevel 0 and a server that takes logs: what waited goes with the login, later lines every 5 s', async () => {
    const h = await loggedIn({ config: { remoteLogLevel: 0, logLevel: 100 }, login: { client_log: 1 } });
    expect(logFrames(h)).toHaveLength(1);
    const [frame] = logFrames(h);
    // On the room socket, as a request of the logged-in session.
    expect(frame!.header).toMatchObject({ cmd: 'client_log', session_id: 'sess-1', room_id: 'room1' });
    expect(shipped(h).map((l) => [l.level, l.text])).toEqual([
      [0, 'room room1: idle -> logging-in'],
      [0, 'room room1: logging-in -> logged-in'],
    ]);
    expect(shipped(h).every((l) => l.time >= 1_000_000)).toBe(true);
    (h.zg.setSoundLevelDelegate as (...a: unknown[]) => void)('nope');
    await h.platform.advance(REMOTE_LOG_FLUSH_MS - 1);
    expect(logFrames(h)).toHaveLength(1);
    await h.platform.advance(1);
    expect(logFrames(h)).toHaveLength(2);
    expect(shipped(h).at(-1)).toMatchObject({
      level: 3,
      text: 'setSoundLevelDelegate: param 1 must be boolean',
    });
  });

  test('a server whose login reply lacks client_log gets nothing', async () => {
    const h = await loggedIn({ config: { remoteLogLevel: 0, logLevel: 100 } });
    (h.zg.setSoundLevelDelegate as (...a: unknown[]) => void)('nope');
    await h.platform.advance(60_000);
    expect(logFrames(h)).toEqual([]);
  });

  test('nothing is shipped when the page set neither remoteLogLevel nor logUrl (or remoteLogLevel 100)', async () => {
    for (const config of [{}, { remoteLogLevel: 100, logUrl: '' }]) {
      const h = await loggedIn({ config, login: { client_log: 1 } });
      const c = consoleSpy();
      (h.zg.setSoundLevelDelegate as (...a: unknown[]) => void)('nope');
      c.restore();
      await h.platform.advance(60_000);
      expect(logFrames(h)).toEqual([]);
    }
  });

  test('remoteLogLevel 2: only warnings and errors go; logUrl names no host we contact', async () => {
    const h = await loggedIn({
      config: { remoteLogLevel: 2, logUrl: 'wss://logs.example.invalid/log', logLevel: 100 },
      login: { client_log: 1 },
    });
    (h.zg.setSoundLevelDelegate as (...a: unknown[]) => void)('nope');
    await h.platform.advance(REMOTE_LOG_FLUSH_MS);
    expect(shipped(h).map((l) => [l.level, l.text])).toEqual([
      [3, 'setSoundLevelDelegate: param 1 must be boolean'],
    ]);
    expect(h.platform.sockets.map((s) => s.url)).toEqual(['ws://fake.test/ws']);
  });

  test('logout ships what waits before the logout request', async () => {
    const h = await loggedIn({ config: { remoteLogLevel: 3, logLevel: 100 }, login: { client_log: 1 } });
    (h.zg.setSoundLevelDelegate as (...a: unknown[]) => void)('nope');
    expect(h.zg.logout()).toBe(true);
    const cmds = h.platform.sockets[0]!.sent.map((f) => f.header.cmd);
    expect(cmds.slice(-2)).toEqual(['client_log', 'logout']);
  });

  test('a callback that throws is logged (at error), and the next callbacks still run', async () => {
    const h = newHarness({ config: { logLevel: 3 } });
    const c = consoleSpy();
    try {
      let n = 0;
      h.zg.onGetAnchorInfo = () => {
        n++;
        throw new Error('page bug');
      };
      const ok = jest.fn();
      h.zg.login('room1', 1, 'token', ok);
      await h.platform.advance(0);
      expect(n).toBe(1);
      expect(ok).toHaveBeenCalledTimes(1);
      expect(c.printed()).toEqual(['error']);
    } finally {
      c.restore();
    }
  });

  test('at load nothing runs: no timer, no socket', () => {
    const platform = new FakePlatform();
    const zg = new ZegoClient(platform);
    zg.config({ appid: 1, idName: 'a', nickName: 'A', server: 'ws://fake.test/ws', remoteLogLevel: 0 });
    expect(platform.pendingTimers).toBe(0);
    expect(platform.sockets).toEqual([]);
  });
});
