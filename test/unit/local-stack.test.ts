import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assertPortFree,
  gongMode,
  LOCAL_TABLE,
  loadEnvFile,
  localEnvironment,
  localSettings,
  PortInUseError,
} from '#local/stack.ts';
import { readCoreConfig } from '../../functions/wiring/config.ts';

describe('localSettings', () => {
  it('returns the default ports and .data under the working directory when nothing is set', () => {
    expect(localSettings({}, '/repo')).toEqual({
      dataDir: '/repo/.data',
      ports: { http: 3000, lambda: 3002, dynamodb: 8000, gongSandbox: 3010, slackApi: 3011, issuer: 3020 },
    });
  });
  it('returns the ports and data dir the variables give', () => {
    const settings = localSettings(
      { PORT: '4000', DYNAMODB_PORT: '4001', LOCAL_DATA_DIR: '/tmp/x' },
      '/repo',
    );
    expect(settings.ports.http).toBe(4000);
    expect(settings.ports.dynamodb).toBe(4001);
    expect(settings.dataDir).toBe('/tmp/x');
  });
  it('throws naming the variable when a port is not a port', () => {
    expect(() => localSettings({ LAMBDA_PORT: 'abc' })).toThrow(/LAMBDA_PORT must be a port number/);
    expect(() => localSettings({ GONG_SANDBOX_PORT: '70000' })).toThrow(/GONG_SANDBOX_PORT/);
  });
});

describe('gongMode', () => {
  it('returns secret, then env, then sandbox, in functions/wiring/config.ts precedence', () => {
    expect(gongMode({ GONG_SECRET_ID: 's', GONG_ACCESS_KEY: 'k' })).toBe('secret');
    expect(gongMode({ GONG_ACCESS_KEY: 'k', GONG_ACCESS_KEY_SECRET: 'v' })).toBe('env');
    expect(gongMode({ GONG_SECRET_ID: ' ' })).toBe('sandbox');
  });
});

describe('localEnvironment', () => {
  it('returns a core configuration that uses the sandbox even when a secret id is set', () => {
    const base = { GONG_SECRET_ID: 'gong-status/gong' };
    const env = localEnvironment(base, { dynamodb: 'http://127.0.0.1:1', gong: 'http://127.0.0.1:2' });
    const config = readCoreConfig({ ...base, ...env });
    expect(config.table).toBe(LOCAL_TABLE);
    expect(config.gong).toEqual({
      kind: 'env',
      accessKey: 'sandbox-key',
      accessKeySecret: 'sandbox-secret',
      baseUrl: 'http://127.0.0.1:2',
    });
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toBe('http://127.0.0.1:1');
  });
  it('returns no stand-in AWS keys when real ones or a profile are configured', () => {
    expect(localEnvironment({ AWS_PROFILE: 'dev' }, { dynamodb: 'x' }).AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(localEnvironment({}, { dynamodb: 'x' }).AWS_ACCESS_KEY_ID).toBe('local');
  });
});

describe('assertPortFree', () => {
  it('throws one line naming the port and its variable when the port is taken', async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    try {
      const error = await assertPortFree(port, 'PORT').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toBe(
        `Port ${port} is already in use: set PORT to a free port (e.g. PORT=${port + 100} npm start).`,
      );
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
    await expect(assertPortFree(port, 'PORT')).resolves.toBeUndefined();
  });
});

describe('loadEnvFile', () => {
  it('loads .env, else .env.example, else nothing; variables already set win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gong-status-env-'));
    try {
      expect(loadEnvFile({}, dir)).toBeUndefined();
      await writeFile(join(dir, '.env.example'), 'LOCAL_STACK_TEST_A=example\n');
      expect(loadEnvFile({}, dir)).toBe(join(dir, '.env.example'));
      expect(process.env.LOCAL_STACK_TEST_A).toBe('example');
      await writeFile(join(dir, '.env'), 'LOCAL_STACK_TEST_A=dotenv\nLOCAL_STACK_TEST_B=dotenv\n');
      process.env.LOCAL_STACK_TEST_B = 'already set';
      expect(loadEnvFile({}, dir)).toBe(join(dir, '.env'));
      expect(process.env.LOCAL_STACK_TEST_B).toBe('already set');
      expect(loadEnvFile({ ENV_FILE: 'missing.env' }, dir)).toBeUndefined();
    } finally {
      delete process.env.LOCAL_STACK_TEST_A;
      delete process.env.LOCAL_STACK_TEST_B;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
