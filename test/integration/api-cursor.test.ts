import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpEvent, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type Api = (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

/** A cursor in our encoding (base64url JSON of a key) that we never issued. */
const forged = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');
const EMAIL = 'ada@example.com';
const SINCE = '2024-01-01T00:00:00.000Z';

describe('api listings refuse forged cursors with 400, never 500 (built bundle, dynalite)', () => {
  let stack: TestStack;
  let api: Api;

  beforeAll(async () => {
    stack = await startTestStack();
    api = loadHandler('api', stack.env) as Api;
    // Something to list, so a forged start key would reach a non-empty index.
    const checked = await api(httpEvent('POST', '/v1/checks', { body: JSON.stringify({ emails: [EMAIL] }) }));
    expect(checked.statusCode).toBe(200);
  });
  afterAll(async () => stack?.stop());

  it.each([
    ['an empty pk', { pk: '', sk: 'LATEST', gsi1pk: 'STATUS#OK', gsi1sk: `${SINCE}#${EMAIL}` }],
    ['an empty sort key', { pk: `USER#${EMAIL}`, sk: 'LATEST', gsi1pk: 'STATUS#OK', gsi1sk: '' }],
    ['every value empty', { pk: '', sk: '', gsi1pk: '', gsi1sk: '' }],
    ['a number', { pk: `USER#${EMAIL}`, sk: 'LATEST', gsi1pk: 'STATUS#OK', gsi1sk: 7 }],
    ['an object', { pk: { S: 'x' }, sk: 'LATEST', gsi1pk: 'STATUS#OK', gsi1sk: `${SINCE}#${EMAIL}` }],
  ])('answers GET /v1/users?status=OK 400 naming cursor for a cursor with %s', async (_case, key) => {
    const response = await api(
      httpEvent('GET', '/v1/users', { query: { status: 'OK', cursor: forged(key) } }),
    );

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(String(response.body)).error).toMatchObject({
      code: 'CURSOR_INVALID',
      message: expect.stringContaining('"cursor"'),
    });
  });

  it.each([
    ['an empty pk', { pk: '', sk: `CHECK#${SINCE}` }],
    ['an empty sk', { pk: `USER#${EMAIL}`, sk: '' }],
    ['null values', { pk: null, sk: null }],
  ])('answers GET /v1/users/{email}/history 400 naming cursor for a cursor with %s', async (_case, key) => {
    const response = await api(
      httpEvent('GET', `/v1/users/${EMAIL}/history`, { query: { cursor: forged(key) } }),
    );

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(String(response.body)).error).toMatchObject({
      code: 'CURSOR_INVALID',
      message: expect.stringContaining('"cursor"'),
    });
  });
});
