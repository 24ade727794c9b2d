import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpEvent, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type HttpResult = { statusCode: number; headers?: Record<string, string>; body: string };
type HttpHandler = (event: unknown) => Promise<HttpResult>;

const FIXTURE = readFileSync('test/fixtures/salesforce-outbound-users.xml', 'utf8');
const ORG_ID = '00D5g000004ZQxBEAW';
const TOKEN = 'sf-outbound-token-0123456789abcdef';
const SECRET_ID = 'gong-status/salesforce';
const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false });

/** The fixture with its first notification repeated `count` times. */
const withNotifications = (count: number) => {
  const one = FIXTURE.match(/<Notification>[\s\S]*?<\/Notification>/)?.[0] ?? '';
  return FIXTURE.replace(/<Notification>[\s\S]*<\/Notification>/, one.repeat(count));
};
/** The fixture as a new outbound message: fresh notification ids, as Salesforce gives each new notification. */
const newMessage = (body = FIXTURE) =>
  body.replace(
    /<Id>04l[0-9A-Za-z]{15}<\/Id>/g,
    () => `<Id>04l${randomBytes(8).toString('hex').slice(0, 15)}</Id>`,
  );
const outboundMessage = (body: string, query: Record<string, string> = { token: TOKEN }) =>
  httpEvent('POST', '/webhooks/salesforce/outbound-message', {
    body,
    query,
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
  });

const ackOf = (response: HttpResult) =>
  xml.parse(response.body)['soapenv:Envelope']?.['soapenv:Body']?.notificationsResponse?.Ack;

describe('salesforceOutbound (built bundle, loopback Gong, Secrets Manager and DynamoDB)', () => {
  let stack: TestStack;
  let handler: HttpHandler;

  const latest = async (email: string) =>
    (
      await stack.db.send(
        new QueryCommand({
          TableName: stack.table,
          KeyConditionExpression: 'pk = :pk AND sk = :latest',
          ExpressionAttributeValues: { ':pk': `USER#${email}`, ':latest': 'LATEST' },
        }),
      )
    ).Items?.[0];

  beforeAll(async () => {
    stack = await startTestStack({ gong: { rps: 1000, burst: 1000 } });
    stack.secrets.setSecret(SECRET_ID, JSON.stringify({ token: TOKEN }));
  });
  afterAll(async () => stack?.stop());
  beforeEach(() => {
    stack.gong.resetStats();
    // The allow-list holds the 15-character form; messages carry the 18-character one.
    handler = loadHandler('salesforceOutbound', {
      ...stack.env,
      SALESFORCE_ORG_ID: ORG_ID.slice(0, 15),
      SALESFORCE_SECRET_ID: SECRET_ID,
    }) as HttpHandler;
  });

  it('checks both users of a two-notification message and answers the SOAP Ack', async () => {
    const response = await handler(outboundMessage(newMessage()));

    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/^text\/xml/);
    const answer = xml.parse(response.body);
    const ack = answer['soapenv:Envelope']['soapenv:Body'].notificationsResponse;
    expect(answer['soapenv:Envelope']['@_xmlns:soapenv']).toBe('http://schemas.xmlsoap.org/soap/envelope/');
    expect(ack['@_xmlns']).toBe('http://soap.sforce.com/2005/09/outbound');
    expect(ack.Ack).toBe('true');
    expect(stack.gong.stats.calls).toBe(1);
    expect(stack.gong.stats.emailsPerCall).toEqual([2]);
    expect(await latest('margaret@example.com')).toMatchObject({ status: 'OK', source: 'salesforce' });
    expect(await latest('unknown.sf-hire@example.com')).toMatchObject({
      status: 'NOT_IN_GONG',
      source: 'salesforce',
    });
    const pending = await stack.db.send(
      new QueryCommand({
        TableName: stack.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pending',
        ExpressionAttributeValues: { ':pending': 'PENDING' },
      }),
    );
    expect(pending.Items?.map((item) => [item.email, item.source])).toEqual([
      ['unknown.sf-hire@example.com', 'salesforce'],
    ]);
  });

  it.each([
    [
      'an organization not on the allow-list',
      FIXTURE.replace(ORG_ID, '00D000000000062EAA'),
      { token: TOKEN },
    ],
    ['a wrong token', FIXTURE, { token: 'guessed-token-guessed-token' }],
    ['no token', FIXTURE, {}],
  ])('returns 401 with a SOAP fault and checks nothing for %s', async (_case, body, query) => {
    const email = `rejected-${Date.now()}@example.com`;

    const response = await handler(outboundMessage(body.replace('Margaret@Example.com', email), query));

    expect(response.statusCode).toBe(401);
    const fault = xml.parse(response.body)['soapenv:Envelope']['soapenv:Body']['soapenv:Fault'];
    expect(fault.faultcode).toBe('soapenv:Client');
    expect(fault.faultstring).toMatch(/unknown organization or token/);
    expect(response.body).not.toContain(TOKEN);
    expect(stack.gong.stats.calls).toBe(0);
    expect(await latest(email)).toBeUndefined();
  });

  it.each([
    ['is not XML', 'this is not xml', /not well-formed XML/],
    [
      'declares a DOCTYPE',
      `<!DOCTYPE x [<!ENTITY a "aaaa">]>${FIXTURE.replace(/^<\?xml[^>]*>/, '')}`,
      /DOCTYPE/,
    ],
    ['has no notifications', withNotifications(0), /no Notification/],
    ['carries 101 notifications', withNotifications(101), /at most 100/],
    [
      'notifies about Contacts, not Users',
      FIXTURE.replaceAll('sf:User', 'sf:Contact'),
      /None of the 2 notifications is a User/,
    ],
  ])('returns 400 with a SOAP fault when the message %s', async (_case, body, message) => {
    const response = await handler(outboundMessage(body));

    expect(response.statusCode).toBe(400);
    expect(xml.parse(response.body)['soapenv:Envelope']['soapenv:Body']['soapenv:Fault'].faultstring).toMatch(
      message,
    );
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('answers a SOAP fault without an Ack when Gong fails, so Salesforce retries', async () => {
    stack.gong.injectFault({ kind: 'status', status: 403 });

    const response = await handler(outboundMessage(newMessage()));

    expect(response.statusCode).toBe(502);
    expect(response.body).toContain('soapenv:Server');
    expect(response.body).not.toContain('<Ack>');
  });

  it('acks a resent message without a second Gong check', async () => {
    const message = outboundMessage(newMessage());
    expect((await handler(message)).statusCode).toBe(200);
    expect(stack.gong.stats.calls).toBe(1);

    const resent = await handler(message);

    expect(resent.statusCode).toBe(200);
    expect(ackOf(resent)).toBe('true');
    expect(stack.gong.stats.calls).toBe(1);
  });

  it('acks concurrent deliveries of one message to two containers with one check per user', async () => {
    const other = loadHandler('salesforceOutbound', {
      ...stack.env,
      SALESFORCE_ORG_ID: ORG_ID.slice(0, 15),
      SALESFORCE_SECRET_ID: SECRET_ID,
    }) as HttpHandler;
    // Gong slow enough that every delivery arrives while the first is still checking.
    stack.gong.injectFault({ kind: 'slow', ms: 600 });
    const message = outboundMessage(newMessage());

    const responses = await Promise.all([handler(message), other(message), handler(message)]);

    expect(responses.map((r) => [r.statusCode, ackOf(r)])).toEqual([
      [200, 'true'],
      [200, 'true'],
      [200, 'true'],
    ]);
    expect(stack.gong.stats.emailsPerCall.reduce((sum, n) => sum + n, 0)).toBe(2);
  });

  it('checks again a message whose delivery failed, and only the notifications not checked before', async () => {
    const both = newMessage();
    const last = both.lastIndexOf('<Notification>');
    const firstOnly = both.slice(0, last) + both.slice(both.indexOf('</Notification>', last) + 15);
    expect((await handler(outboundMessage(firstOnly))).statusCode).toBe(200);
    stack.gong.injectFault({ kind: 'status', status: 403 });
    expect((await handler(outboundMessage(both))).statusCode).toBe(502);
    stack.gong.resetStats();

    const resent = await handler(outboundMessage(both));

    expect(resent.statusCode).toBe(200);
    expect(stack.gong.stats.emailsPerCall).toEqual([1]);
    const records = await stack.db.send(
      new QueryCommand({
        TableName: stack.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'idempotency#salesforceOutbound' },
      }),
    );
    expect(records.Items?.every((item) => typeof item.expiresAt === 'number')).toBe(true);
    expect(records.Items?.filter((item) => item.status === 'COMPLETED').length).toBeGreaterThanOrEqual(2);
  });

  it('fails the cold start naming SALESFORCE_ORG_ID when it is missing', () => {
    expect(() => loadHandler('salesforceOutbound', { ...stack.env, SALESFORCE_TOKEN: TOKEN })).toThrow(
      /SALESFORCE_ORG_ID/,
    );
  });
});
