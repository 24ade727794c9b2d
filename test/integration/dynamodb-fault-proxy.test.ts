import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '#local/dynamodb-fault-proxy.ts';
import { DYNAMO_ENGINE, type LocalTable, startLocalTable } from '../support/stack.ts';

const MAX_ATTEMPTS = 3;

describe(`startDynamoFaultProxy (in front of ${DYNAMO_ENGINE})`, () => {
  let local: LocalTable;
  let proxy: DynamoFaultProxy;
  let client: DynamoDBClient;
  let db: DynamoDBDocumentClient;
  let keys = 0;

  const nextKey = () => ({ pk: `FAULT#${process.pid}-${++keys}`, sk: 'ITEM' });
  // Read straight from the server, not through the proxy: what is really stored.
  const stored = async (key: { pk: string; sk: string }) =>
    (await local.db.send(new GetCommand({ TableName: local.table, Key: key, ConsistentRead: true }))).Item;
  const putNew = (key: { pk: string; sk: string }, value: string) =>
    db.send(
      new PutCommand({
        TableName: local.table,
        Item: { ...key, value },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );

  beforeAll(async () => {
    local = await startLocalTable('fault-proxy-test');
  });
  afterAll(async () => local?.stop());

  beforeEach(async () => {
    proxy = await startDynamoFaultProxy({ upstream: local.dynamo.endpoint, seed: 42 });
    client = new DynamoDBClient({
      endpoint: proxy.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: MAX_ATTEMPTS,
    });
    db = DynamoDBDocumentClient.from(client);
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
  });

  it('passes puts and gets through unchanged when no fault is set', async () => {
    const key = nextKey();
    await db.send(new PutCommand({ TableName: local.table, Item: { ...key, value: 'plain', n: 7 } }));
    const { Item } = await db.send(new GetCommand({ TableName: local.table, Key: key }));

    expect(Item).toEqual({ ...key, value: 'plain', n: 7 });
    expect(proxy.stats()).toEqual({
      requests: { PutItem: 1, GetItem: 1 },
      faults: { error500: 0, throttle: 0, dropAfterApply: 0, dropBeforeApply: 0, delay: 0 },
      forwarded: 2,
    });
  });

  it('answers 500 InternalServerError, and the SDK succeeds on its retry when the fault ends in time', async () => {
    proxy.setFaults([{ kind: 'error500', operations: ['PutItem'], count: MAX_ATTEMPTS - 1 }]);
    const key = nextKey();
    const answer = await putNew(key, 'after-500s');

    expect(answer.$metadata.attempts).toBe(MAX_ATTEMPTS);
    expect(await stored(key)).toEqual({ ...key, value: 'after-500s' });
    expect(proxy.stats()).toMatchObject({
      requests: { PutItem: MAX_ATTEMPTS },
      faults: { error500: 2 },
      forwarded: 1,
    });
  });

  it('fails with InternalServerError after every attempt when the 500s do not stop', async () => {
    proxy.setFaults([{ kind: 'error500' }]);
    const key = nextKey();
    const failure = await putNew(key, 'never').catch((error: unknown) => error);

    expect(failure).toMatchObject({
      name: 'InternalServerError',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    });
    expect(await stored(key)).toBeUndefined();
    expect(proxy.stats()).toMatchObject({
      requests: { PutItem: MAX_ATTEMPTS },
      faults: { error500: 3 },
      forwarded: 0,
    });
  });

  it('throttles, and the SDK succeeds on its retry when the throttling ends in time', async () => {
    proxy.setFaults([{ kind: 'throttle', operations: ['PutItem'], count: 1 }]);
    const key = nextKey();
    const answer = await putNew(key, 'after-throttle');

    expect(answer.$metadata.attempts).toBe(2);
    expect(await stored(key)).toEqual({ ...key, value: 'after-throttle' });
    expect(proxy.stats().faults.throttle).toBe(1);
  });

  it('fails with ProvisionedThroughputExceededException, or ThrottlingException, when throttling does not stop', async () => {
    proxy.setFaults([{ kind: 'throttle', operations: ['GetItem'] }]);
    const provisioned = await db
      .send(new GetCommand({ TableName: local.table, Key: nextKey() }))
      .catch((error: unknown) => error);
    proxy.setFaults([{ kind: 'throttle', throttleError: 'ThrottlingException' }]);
    const throttling = await db
      .send(new GetCommand({ TableName: local.table, Key: nextKey() }))
      .catch((error: unknown) => error);

    expect(provisioned).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400, attempts: MAX_ATTEMPTS },
    });
    expect(throttling).toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400, attempts: MAX_ATTEMPTS },
    });
    expect(proxy.stats()).toMatchObject({ requests: { GetItem: 2 * MAX_ATTEMPTS }, faults: { throttle: 6 } });
  });

  it('stores a conditional put whose answer it drops, so the SDK retry fails with ConditionalCheckFailedException', async () => {
    proxy.setFaults([{ kind: 'dropAfterApply', operations: ['PutItem'], count: 1 }]);
    const key = nextKey();
    const failure = await putNew(key, 'applied-once').catch((error: unknown) => error);

    // The trap: the write happened, yet the caller is told its condition failed.
    expect(failure).toMatchObject({ name: 'ConditionalCheckFailedException', $metadata: { attempts: 2 } });
    expect(await stored(key)).toEqual({ ...key, value: 'applied-once' });
    expect(proxy.stats()).toMatchObject({
      requests: { PutItem: 2 },
      faults: { dropAfterApply: 1 },
      forwarded: 2,
    });
  });

  it('stores nothing when it drops the connection before forwarding', async () => {
    proxy.setFaults([{ kind: 'dropBeforeApply', operations: ['PutItem'] }]);
    const key = nextKey();
    const failure = await putNew(key, 'dropped').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ $metadata: { attempts: MAX_ATTEMPTS } });
    expect(await stored(key)).toBeUndefined();
    expect(proxy.stats()).toMatchObject({
      requests: { PutItem: MAX_ATTEMPTS },
      faults: { dropBeforeApply: 3 },
      forwarded: 0,
    });
  });

  it('lets the retry of a put dropped before forwarding succeed, condition and all', async () => {
    proxy.setFaults([{ kind: 'dropBeforeApply', operations: ['PutItem'], count: 1 }]);
    const key = nextKey();
    const answer = await putNew(key, 'second-try');

    expect(answer.$metadata.attempts).toBe(2);
    expect(await stored(key)).toEqual({ ...key, value: 'second-try' });
  });

  it('hits only the operations a rule names', async () => {
    proxy.setFaults([{ kind: 'error500', operations: ['UpdateItem', 'BatchWriteItem'] }]);
    const key = nextKey();
    await putNew(key, 'untouched');
    const { Item } = await db.send(new GetCommand({ TableName: local.table, Key: key }));

    expect(Item).toEqual({ ...key, value: 'untouched' });
    expect(proxy.stats().faults.error500).toBe(0);
  });

  it('adds the delay before forwarding', async () => {
    proxy.setFaults([{ kind: 'delay', delayMs: 300, count: 1 }]);
    const started = performance.now();
    await db.send(new GetCommand({ TableName: local.table, Key: nextKey() }));

    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(proxy.stats().faults.delay).toBe(1);
  });

  it('injects the same faults in the same order when started again with the same seed', async () => {
    const run = async (seed: number) => {
      const seeded = await startDynamoFaultProxy({ upstream: local.dynamo.endpoint, seed });
      const once = new DynamoDBClient({
        endpoint: seeded.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
      seeded.setFaults([{ kind: 'error500', probability: 0.5 }]);
      const outcomes: boolean[] = [];
      try {
        for (let i = 0; i < 16; i++) {
          const ok = await DynamoDBDocumentClient.from(once)
            .send(new GetCommand({ TableName: local.table, Key: nextKey() }))
            .then(
              () => true,
              () => false,
            );
          outcomes.push(ok);
        }
      } finally {
        once.destroy();
        await seeded.close();
      }
      return outcomes;
    };
    const first = await run(7);
    const again = await run(7);

    expect(again).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  it('closes with a request still held by a delay, which the client sees fail', async () => {
    proxy.setFaults([{ kind: 'delay', delayMs: 20_000 }]);
    const once = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: proxy.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      }),
    );
    const pending = once
      .send(new GetCommand({ TableName: local.table, Key: nextKey() }))
      .catch((error: unknown) => error);
    await expect.poll(() => proxy.stats().requests.GetItem).toBe(1);
    const started = performance.now();
    await proxy.close();

    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await pending).toBeInstanceOf(Error);
    once.destroy();
  });

  it('holds 30 requests at once, delayed and forwarded, without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      proxy.setFaults([{ kind: 'delay', delayMs: 50 }]);
      const keys = Array.from({ length: 30 }, nextKey);
      await Promise.all(keys.map((key, i) => putNew(key, `v${i}`)));
      // Node emits warnings on the next tick.
      await new Promise((resolve) => setImmediate(resolve));

      expect(await stored(keys[29] as { pk: string; sk: string })).toMatchObject({ value: 'v29' });
      expect(proxy.stats().faults.delay).toBe(30);
      expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses a probability outside 0..1', () => {
    expect(() => proxy.setFaults([{ kind: 'throttle', probability: 1.5 }])).toThrow(RangeError);
  });
});
