import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOutboundMessage } from '#lib/crm/salesforce-outbound.ts';

const FIXTURE = readFileSync('test/fixtures/salesforce-outbound-users.xml', 'utf8');

describe('parseOutboundMessage', () => {
  it('returns the org, action and each User notification with its normalised email', () => {
    const message = parseOutboundMessage(FIXTURE);

    expect(message).toEqual({
      organizationId: '00D5g000004ZQxBEAW',
      actionId: '04k5g000000KyYsAAK',
      notifications: [
        {
          id: '04l5g00000BQnwLAAT',
          objectType: 'User',
          recordId: '0055g00000J4dXyAAJ',
          email: 'margaret@example.com',
        },
        {
          id: '04l5g00000BQnwMAAT',
          objectType: 'User',
          recordId: '0055g00000J4dY3AAJ',
          email: 'unknown.sf-hire@example.com',
        },
      ],
    });
  });

  it('returns the same message when the sender picks other namespace prefixes', () => {
    const renamed = FIXTURE.replaceAll('soapenv:', 'S:')
      .replace('xmlns:soapenv=', 'xmlns:S=')
      .replaceAll('sf:', 'ens:')
      .replaceAll('xmlns:sf=', 'xmlns:ens=');

    expect(parseOutboundMessage(renamed)).toEqual(parseOutboundMessage(FIXTURE));
  });

  it('returns a notification without email when the Email field is absent or not an email', () => {
    const message = parseOutboundMessage(
      FIXTURE.replace('<sf:Email>Margaret@Example.com</sf:Email>', '').replace(
        'unknown.sf-hire@example.com</sf:Email>',
        'not an email</sf:Email>',
      ),
    );

    expect(message.notifications.map((n) => n.email)).toEqual([undefined, undefined]);
  });

  it('throws a 400 naming the problem when the body is not an outbound message', () => {
    const attempt = () =>
      parseOutboundMessage('<soapenv:Envelope xmlns:soapenv="x"><soapenv:Body/></soapenv:Envelope>');
    expect(attempt).toThrow(/no soapenv:Envelope\/soapenv:Body\/notifications/);
    expect(attempt).toThrow(expect.objectContaining({ statusCode: 400, code: 'BAD_OUTBOUND_MESSAGE' }));
    expect(() => parseOutboundMessage(FIXTURE.replace(/<OrganizationId>.*<\/OrganizationId>/, ''))).toThrow(
      /no OrganizationId/,
    );
  });
});
