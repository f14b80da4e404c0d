/** @jest-environment node */
/** Every error code in the one error table is documented in docs/errors.md. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientErrorCode, CloseCode, ServerCode, SERVER_CODE_MESSAGES } from '../../src/protocol/errors';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

test.each(Object.entries(ClientErrorCode))('client code %s (%s) is documented', (_name, code) => {
  expect(doc).toContain(`\`${code}\``);
});

test.each(Object.entries(ServerCode))('server code %s (%s) is documented with its message', (_name, code) => {
  expect(doc).toContain(`\`${code}\``);
  expect(doc).toContain(SERVER_CODE_MESSAGES[code]!);
});

test.each(Object.entries(CloseCode))('close code %s (%s) is documented', (_name, code) => {
  expect(doc).toContain(`\`${code}\``);
});
