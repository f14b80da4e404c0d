/** @jest-environment node */
/** Every error code in the one error table is documented in docs/errors.md. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ClientErrorCode,
  CloseCode,
  MEDIA_ERRORS,
  ServerCode,
  SERVER_CODE_MESSAGES,
} from '../../src/protocol/errors';
import { MEDIA_RESULT_MESSAGES } from '../../src/protocol/media';
import { ADMIN_ERRORS } from '../../src/protocol/adminApi';

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

test.each(Object.entries(MEDIA_ERRORS))(
  'media error %s is documented with its suffix',
  (_kind, [suffix, msg]) => {
    expect(doc).toContain(`\`${suffix}\``);
    expect(doc).toContain(msg);
  },
);

test.each(Object.entries(MEDIA_RESULT_MESSAGES))('media result %s is documented', (result) => {
  expect(doc).toMatch(new RegExp(`\\| \`${result}\` +\\|`));
});

test.each(Object.entries(ADMIN_ERRORS))(
  'admin API error %s is documented with its code, status and message',
  (name, e) => {
    expect(doc).toMatch(
      new RegExp(`\\| \`${e.code}\` +\\| \`${name}\` +\\| ${e.status} +\\| ${e.message} +\\|`),
    );
  },
);
