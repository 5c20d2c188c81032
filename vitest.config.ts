import { defineConfig } from 'vitest/config';

export default defineConfig({
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
