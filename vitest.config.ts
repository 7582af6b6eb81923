import { defineConfig } from 'vitest/config'

// Two projects: `unit` needs no lab and stays fast; `live` drives a real apiserver, dockerd and
// decoys (it brings the lab up itself, and skips with a printed reason when a part cannot run).
export default defineConfig({
  test: {
    globalSetup: ['test/setup/wasm.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'live',
          include: ['test/live/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
