/**
 * Real Chromium loads the built dist/ZegoClient.js through a <script> tag (served by our server, as a page
 * would load it) and two users run the whole signalling scenario against the real server.
 */
import { devToken, openSdkPage, useServerAndBrowser } from '../helpers/browser';
import { runRoomScenario, type Peer } from '../helpers/roomScenario';

jest.setTimeout(120_000);

const suite = useServerAndBrowser();

test('the global script defines ZegoClient, also under its legacy file name', async () => {
  const page = await openSdkPage(suite.context, suite.server.url, 'shim');
  const version = await page.evaluate(() =>
    (window as unknown as { ZegoClient: { getCurrentVersion(): string } }).ZegoClient.getCurrentVersion(),
  );
  expect(version).toBe('1.12.5');
  const legacy = await fetch(`${suite.server.url}/jZego-rtc.js`);
  expect(legacy.status).toBe(200);
  expect(legacy.headers.get('content-type')).toMatch(/javascript/);
  await page.close();
});

test("legacy navigator.getUserMedia(constraints, success) with two arguments works (Chromium's native one throws)", async () => {
  const page = await openSdkPage(suite.context, suite.server.url, 'shim');
  const r = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        setTimeout(() => resolve('no success callback within 10 s'), 10_000);
        try {
          const legacy = navigator as unknown as {
            getUserMedia(c: MediaStreamConstraints, ok: (s: MediaStream) => void): void;
          };
          legacy.getUserMedia({ audio: true, video: true }, (s) =>
            resolve(`ok ${s.getAudioTracks().length} audio ${s.getVideoTracks().length} video`),
          );
        } catch (e) {
          resolve(`threw: ${(e as Error).message}`);
        }
      }),
  );
  expect(r).toBe('ok 1 audio 1 video');
  await page.close();
});

test('two users in one room: messages, reliable, big room, user list, join-live', async () => {
  const a: Peer = {
    page: await openSdkPage(suite.context, suite.server.url, 'shim'),
    idName: 'alice',
    nickName: 'Alice',
  };
  const b: Peer = {
    page: await openSdkPage(suite.context, suite.server.url, 'shim'),
    idName: 'bob',
    nickName: 'Bob',
  };
  const ws = suite.server.url.replace(/^http/, 'ws') + '/ws';
  const r = await runRoomScenario(a, b, { appid: 1739272706, server: ws, room: 'room-browser' }, (id) =>
    devToken(suite.server.url, 1739272706, id),
  );

  expect(r['A.anchorInfo']!.args).toEqual(['alice', 'Alice']);
  expect(r['B.totalUserList']!.args[0]).toBe('room-browser');
  expect(r['B.totalUserList']!.args[1]).toEqual(
    expect.arrayContaining([
      { idName: 'alice', nickName: 'Alice', role: 1 },
      { idName: 'bob', nickName: 'Bob', role: 1 },
    ]),
  );
  expect(r['A.userJoin']!.args[1]).toEqual([
    expect.objectContaining({ action: 1, idName: 'bob', nickName: 'Bob', role: 1 }),
  ]);
  expect(r['A.customCommand.return']!.args[0]).toBe(true);
  expect(r['B.recvCustomCommand']!.args).toEqual(['alice', 'Alice', 'hello']);
  expect(r['B.roomMsg.success']!.args).toEqual([expect.any(Number), expect.any(Number), 1, 1, 'hi']);
  const [chat, serverMsgId, retMsgId] = r['A.recvRoomMsg']!.args as [
    Record<string, unknown>[],
    number,
    number,
  ];
  expect(chat[0]).toMatchObject({
    id_name: 'bob',
    nick_name: 'Bob',
    msg_category: 1,
    msg_type: 1,
    msg_content: 'hi',
  });
  expect(typeof serverMsgId).toBe('number');
  expect(typeof retMsgId).toBe('number');
  expect(r['B.recvReliable']!.args).toEqual(['quiz', 1, 'q1']);
  const [bigList, bigRoom] = r['A.recvBigRoom']!.args as [Record<string, unknown>[], string];
  expect(bigRoom).toBe('room-browser');
  expect(bigList[0]).toMatchObject({ idName: 'bob', nickName: 'Bob', category: 1, type: 1, content: 'big' });
  expect(r['B.bigRoom.success']!.args[1]).toBe(bigList[0]!.messageId);
  expect(r['A.requestJoinLive.return']!.args[0]).toBe(true);
  expect(r['B.recvJoinLiveRequest']!.args.slice(1)).toEqual(['alice', 'Alice', 'room-browser']);
  expect(r['A.joinLiveResult']!.args).toEqual([true, 'bob', 'Bob']);
  expect(r['A.recvInvite']!.args.slice(1)).toEqual(['bob', 'Bob', 'room-browser']);
  expect(r['B.inviteResult']!.args).toEqual([false, 'alice', 'Alice']);
  expect(r['B.recvEnd']!.args.slice(1)).toEqual(['alice', 'Alice', 'room-browser']);
  expect(r['A.userLeave']!.args[1]).toEqual([expect.objectContaining({ action: 2, idName: 'bob' })]);
  await a.page.close();
  await b.page.close();
});
