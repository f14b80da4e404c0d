/**
 * Every media request (MEDIA_REQUESTS), before and after a real media login: hostile frames built from
 * the request's real shape each get `<Name>Rsp` with the request's seq and a MediaResult (ErrorRsp for
 * unknown commands and unreadable frames, nothing for acks), or a documented close; the process stays
 * up and the bystander in another room notices nothing. Janus is unreachable on purpose: requests that
 * need it answer a media-server error, which is a fine answer.
 */
import { MEDIA_REQUESTS } from '../../src/protocol/mediaSchema';
import { Target, checked, mediaProperty } from './lib/harness';

jest.setTimeout(180_000);
const RUNS = 100;
const t = new Target();

beforeAll(() => t.start());
afterAll(() => t.stop());

describe.each(['before login', 'after login'] as const)('media /media, %s', (phase) => {
  test.each([...MEDIA_REQUESTS])('%s: every hostile frame is answered or closed as documented', (cmd) =>
    checked(t, () => mediaProperty(t, cmd, phase, RUNS)),
  );
});
