/** The `redis` config section: off by default (one node in memory), each bad field named. */
import { resolveConfig } from '../../../src/server/config';
import { redisOn } from '../../../src/server/redis/redisConfig';

test('without redis the server is one node; url or spawn turn many nodes on', () => {
  expect(redisOn(resolveConfig({}))).toBe(false);
  expect(redisOn(resolveConfig({ redis: { url: 'redis://127.0.0.1:6379' } }))).toBe(true);
  expect(redisOn(resolveConfig({ redis: { url: 'unix:///run/redis.sock' } }))).toBe(true);
  expect(redisOn(resolveConfig({ redis: { spawn: true } }))).toBe(true);
  expect(resolveConfig({}).redis).toMatchObject({ commandTimeoutMs: 2000, nodeTtlMs: 6000, prefix: 'zs:' });
});

test.each([
  [{ url: 'http://x' }, 'config: redis.url must be redis://, rediss:// or unix:/// (or empty)'],
  [{ url: 'redis://x', spawn: true }, 'config: redis.spawn and redis.url exclude each other'],
  [{ spawn: 'yes' }, 'config: redis.spawn must be true or false'],
  [{ node: 'a b' }, 'config: redis.node must be up to 64 letters, digits, ".", "_" or "-"'],
  [{ prefix: '' }, 'config: redis.prefix must be 1 to 32 letters, digits, ".", "_", ":" or "-"'],
  [{ commandTimeoutMs: 10 }, 'config: redis.commandTimeoutMs must be an integer from 50 to 60000 (got 10)'],
  [{ nodeTtlMs: 100 }, 'config: redis.nodeTtlMs must be an integer from 500 to 600000 (got 100)'],
  [{ port: 70000 }, 'config: redis.port must be an integer from 0 to 65535 (got 70000)'],
  [{ host: 'x' }, 'config: redis.host is not a known setting'],
])('redis %j is refused: %s', (redis, message) => {
  expect(() => resolveConfig({ redis } as never)).toThrow(message);
});
