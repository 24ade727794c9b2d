import { startLocalDynamo } from '#local/dynamodb.ts';
import { buildAll } from '../../scripts/build/build.ts';
import { DYNAMO_ENGINE } from './stack.ts';

/**
 * Builds dist/ before any test file runs: the integration tests load the bundles, and a test run
 * after an edit to lib/ must test the code as edited, not the last build. And starts the one
 * DynamoDB server the run's tables live on (test/support/stack.ts): the workers, forked after this,
 * find it in TEST_DYNAMO_ENDPOINT.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const [dynamo, built] = await Promise.allSettled([startLocalDynamo({ engine: DYNAMO_ENGINE }), buildAll()]);
  if (built.status === 'rejected') {
    if (dynamo.status === 'fulfilled') await dynamo.value.stop();
    throw built.reason;
  }
  if (dynamo.status === 'rejected') throw dynamo.reason;
  process.env.TEST_DYNAMO_ENDPOINT = dynamo.value.endpoint;
  return () => dynamo.value.stop();
}
