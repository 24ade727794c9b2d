import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Workers stay at vitest's default (cores − 1): one file at a time on CI's 2 cores. Two at a time
    // measured 224 s instead of 296 s, but doubled gong-limits' time under the other file's load, and
    // the pacing tests measure gaps between calls: not worth a flaky CI.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Metric lines only where a test asks for them (test/integration/metrics.test.ts turns them back on).
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
