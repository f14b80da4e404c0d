/**
 * Every room command (ROOM_CMDS), before and after a real login: hostile frames built from the
 * command's real shape each get a reply per the contract (cmd and seq echoed, a documented err_code) or
 * a documented close; the process stays up and the bystander in another room notices nothing.
 */
import { ROOM_CMDS } from '../../src/protocol/roomSchema';
import { Target, checked, roomProperty } from './lib/harness';

jest.setTimeout(180_000);
const RUNS = 100;
const t = new Target();

beforeAll(() => t.start());
afterAll(() => t.stop());

describe.each(['before login', 'after login'] as const)('room /ws, %s', (phase) => {
  test.each([...ROOM_CMDS])('%s: every hostile frame is answered or closed as documented', (cmd) =>
    checked(t, () => roomProperty(t, cmd, phase, RUNS)),
  );
});
