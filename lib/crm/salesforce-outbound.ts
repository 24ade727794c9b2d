import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import type { CheckNewUsers } from '#lib/crm/new-user-check.ts';
import type { SecretSource } from '#lib/crm/secret-field.ts';
import { ConfigError, HttpError } from '#lib/errors.ts';

/** The WSDL's maxOccurs for Notification. */
export const MAX_NOTIFICATIONS = 100;
/** A guessable token would be the only lock on this door: refuse to run with a short one. */
const MIN_TOKEN_LENGTH = 16;

/** One notification of an outbound message, with the fields we use. */
export interface OutboundNotification {
  /** Salesforce's notification id: the same on every retry of this notification. */
  id: string;
  /** The sObject type, e.g. "User". */
  objectType: string;
  recordId?: string;
  email?: string;
}

export interface OutboundMessage {
  organizationId: string;
  actionId?: string;
  notifications: OutboundNotification[];
}

export interface SalesforceOutbound {
  /** Authenticates, parses and checks the message's users; resolves when Salesforce may be sent the Ack. */
  receive(
    request: { body: string; token: string | undefined },
    invocation: { requestId: string; deadline: number },
  ): Promise<{ checked: number; skipped: number }>;
}

const parser = new XMLParser({
  // Salesforce's prefixes (soapenv, sf) are conventions, not guarantees: match on local names.
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Ids like 00D… and emails must stay text, never become numbers.
  parseTagValue: false,
  htmlEntities: false,
  isArray: (_name, jpath) => String(jpath) === 'Envelope.Body.notifications.Notification',
});

/**
 * The Salesforce Outbound Message door. Outbound messages cannot be signed, so a message is
 * accepted only with the secret token in its URL and from an allow-listed Organization Id.
 */
export function createSalesforceOutbound(deps: {
  orgIds: string[];
  token: SecretSource;
  checkNewUsers: CheckNewUsers;
  logger: Logger;
}): SalesforceOutbound {
  const allowed = new Set(deps.orgIds.map((id) => id.slice(0, 15)));
  const rejected = () =>
    // One answer for a wrong token and a wrong org: a caller learns nothing about which was wrong.
    new HttpError(401, 'UNAUTHORIZED', 'Outbound message rejected: unknown organization or token');

  return {
    async receive(request, invocation) {
      const expected = await deps.token();
      if (expected.length < MIN_TOKEN_LENGTH) {
        throw new ConfigError(`The Salesforce token must be at least ${MIN_TOKEN_LENGTH} characters`);
      }
      if (request.token === undefined || !sameSecret(request.token, expected)) throw rejected();
      const message = parseOutboundMessage(request.body);
      // 15- and 18-character forms of an Id name the same org; the first 15 are case-sensitive.
      if (!allowed.has(message.organizationId.slice(0, 15))) throw rejected();

      const users = message.notifications.filter(
        (n): n is OutboundNotification & { email: string } =>
          n.objectType === 'User' && n.email !== undefined,
      );
      const skipped = message.notifications.length - users.length;
      if (users.length === 0) {
        throw new HttpError(
          400,
          'NO_USERS',
          `None of the ${message.notifications.length} notifications is a User with a valid Email field; the outbound message must send User objects with Email`,
        );
      }
      if (skipped > 0) deps.logger.warn('Skipped notifications without a User email', { skipped });
      const { report, pending } = await deps.checkNewUsers(
        users.map((n) => n.email),
        { source: 'salesforce', requestId: invocation.requestId, deadline: invocation.deadline },
      );
      deps.logger.info('Checked outbound message users', {
        actionId: message.actionId,
        summary: report.summary,
        pending: pending.length,
      });
      return { checked: report.results.length, skipped };
    },
  };
}

/** Parses a Salesforce `notifications` SOAP envelope; throws a 400 naming what is wrong. */
export function parseOutboundMessage(xml: string): OutboundMessage {
  // SOAP 1.1 forbids a DTD, and refusing one shuts out entity-expansion attacks.
  if (/<!DOCTYPE/i.test(xml)) throw bad('a SOAP message must not contain a DOCTYPE');
  if (xml.trim() === '' || XMLValidator.validate(xml) !== true) throw bad('the body is not well-formed XML');
  const doc = parser.parse(xml) as unknown;
  const notifications = at(doc, 'Envelope', 'Body', 'notifications');
  if (!isObject(notifications)) throw bad('no soapenv:Envelope/soapenv:Body/notifications element');
  const organizationId = text(notifications.OrganizationId);
  if (!organizationId) throw bad('notifications has no OrganizationId');
  const list = Array.isArray(notifications.Notification) ? notifications.Notification : [];
  if (list.length === 0) throw bad('notifications has no Notification');
  if (list.length > MAX_NOTIFICATIONS) {
    throw bad(`${list.length} notifications; an outbound message carries at most ${MAX_NOTIFICATIONS}`);
  }
  const actionId = text(notifications.ActionId);
  return {
    organizationId,
    ...(actionId ? { actionId } : {}),
    notifications: list.map((entry: unknown, index) => toNotification(entry, index)),
  };
}

function toNotification(entry: unknown, index: number): OutboundNotification {
  const id = text(at(entry, 'Id'));
  const sObject = at(entry, 'sObject');
  if (!id || !isObject(sObject)) throw bad(`Notification #${index} has no Id or no sObject`);
  // xsi:type="sf:User": the prefix is the document's choice, the local name is the type.
  const objectType = (text(sObject['@_type']) ?? '').split(':').pop() ?? '';
  const notification: OutboundNotification = { id, objectType };
  const recordId = text(sObject.Id);
  if (recordId) notification.recordId = recordId;
  const email = text(sObject.Email);
  if (email && isEmail(normaliseEmail(email))) notification.email = normaliseEmail(email);
  return notification;
}

function bad(problem: string): HttpError {
  return new HttpError(400, 'BAD_OUTBOUND_MESSAGE', `Not a valid Salesforce outbound message: ${problem}`);
}

/** Constant-time comparison that also hides the expected length. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return current;
}

function text(value: unknown): string | undefined {
  const raw = isObject(value) ? value['#text'] : value;
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
