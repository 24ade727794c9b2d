import { buildAll } from '../../scripts/build/build.ts';

/**
 * Builds dist/ before any test file runs: the integration tests load the bundles, and a test run
 * after an edit to lib/ must test the code as edited, not the last build.
 */
export default async function setup(): Promise<void> {
  await buildAll();
}
