/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
const transform = { '^.+\\.ts$': tsJest };
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/spec/unit/**/*.test.ts'],
      transform,
    },
    {
      displayName: 'integration',
      testEnvironment: 'jsdom',
      // jsdom gives the shim a real WebSocket; node export conditions let the same test load the server (ws).
      testEnvironmentOptions: { customExportConditions: ['node', 'require', 'default'] },
      testMatch: ['<rootDir>/spec/integration/**/*.test.ts'],
      setupFiles: ['<rootDir>/spec/helpers/jsdomNodeTimers.ts'],
      transform,
    },
    {
      // Real Chromium loading dist/ZegoClient.js against a real server.
      displayName: 'browser',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/spec/browser/**/*.test.ts'],
      transform,
    },
    {
      // The original SDK (webrtc-zego@1.12.5) and our shim in one room.
      displayName: 'compat',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/spec/compat/**/*.test.ts'],
      transform,
    },
    {
      // Real Chromium + real Janus + the real server process, inside scripts/netns.sh.
      displayName: 'media',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/spec/media/**/*.test.ts'],
      transform,
    },
    {
      // Hostile clients against the built server as a child process (issue 7): fast-check properties,
      // crashers, slow readers, connection storms, rate limits.
      displayName: 'fuzz',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/spec/fuzz/**/*.test.ts'],
      transform,
    },
  ],
};
