import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (rel: string): string => fileURLToPath(new URL(`./src/${rel}`, import.meta.url));

export default defineConfig({
  // Package self-imports (model files and examples import 'ortgenai-node/mlflow' like users do) resolve to
  // the sources under test, from any folder, so a test never runs a stale dist/ next to src/.
  resolve: {
    alias: [
      { find: /^ortgenai-node$/, replacement: src('index.ts') },
      { find: /^ortgenai-node\/(mlflow|modelbuilder)$/, replacement: src('$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Native generation is CPU-bound on a 2-core machine: run files one at a time so timings and RSS
    // checks are not distorted by a neighbour, and give model loads room.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
