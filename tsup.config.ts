import { copyFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

const targets: Options[] = [
  {
    // The global script old pages include: assigns window.ZegoClient (see src/client/global.ts).
    entry: { ZegoClient: 'src/client/global.ts' },
    format: ['iife'],
    platform: 'browser',
    target: 'es2017',
    // terser packs the global script ~4% smaller than esbuild's minifier (the contract's 40 KiB budget).
    minify: 'terser',
    terserOptions: { compress: { passes: 2 }, mangle: true, format: { comments: false } },
    // webrtc-adapter calls 4 of the `sdp` package's ~50 helpers; it gets only those (~3 KB of gzip less,
    // every browser shim kept). Why it is safe and what guards it: src/client/platform/adapterSdp.ts.
    esbuildOptions: (options) => {
      options.alias = { sdp: './src/client/platform/adapterSdp.ts' };
    },
    sourcemap: true,
    clean: false,
    outDir: 'dist',
    outExtension: () => ({ js: '.js' }),
    onSuccess: async () => {
      // Same file under the legacy name, so a page can keep <script src="jZego-rtc.js">.
      copyFileSync('dist/ZegoClient.js', 'dist/jZego-rtc.js');
      copyFileSync('dist/ZegoClient.js.map', 'dist/jZego-rtc.js.map');
    },
  },
  {
    entry: { index: 'src/client/index.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2019',
    dts: true,
    sourcemap: true,
    outDir: 'dist/esm',
  },
  {
    // bridge.js: the client-offer play worker, a child process of the server (src/server/bridge/worker.ts);
    // flvMain.js: the origin's HTTP-FLV hub (src/server/origin/flvMain.ts).
    entry: {
      cli: 'src/server/cli.ts',
      index: 'src/server/index.ts',
      bridge: 'src/server/bridge/worker.ts',
      flvMain: 'src/server/origin/flvMain.ts',
    },
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    outDir: 'dist/server',
  },
];

export default defineConfig(targets);
