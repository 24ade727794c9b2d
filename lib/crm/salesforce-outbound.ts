import { createHash, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  IdempotencyConfig,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import type { CheckNewUsers } from '#lib/crm/new-user-check.ts';
import type { SecretSource } from '#lib/crm/secret-field.ts';
import { ConfigError, HttpError } from '#lib/errors/errors.ts';

/** The WSDL's maxOccurs for Notification. */
export const MAX_NOTIFICATIONS = 100;
/** A guessable token would be the only lock on this door: refuse to run with a short one. */
const MIN_TOKEN_LENGTH = 16;
/** Name of the idempotency records' partition and key prefix. */
export const IDEMPOTENCY_NAME = 'salesforceOutbound';
/** Salesforce resends an unacknowledged message for up to 24 hours: keep notification ids 2 days. */
const IDEMPOTENCY_TTL_SECONDS = 2 * 86_400;
/** How long a redelivery waits for another invocation still checking the same notification. */
const IN_PROGRESS_WAIT_MS = 10_000;
const IN_PROGRESS_POLL_MS = 200;

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
  ): Promise<{ checked: number; skipped: number; duplicates: number }>;
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

type UserNotification = OutboundNotification & { email: string };
/** What a delivery found for one notification: its own to check, already checked, or another invocation's. */
type Claim = 'claimed' | 'done' | 'busy';

/**
 * The Salesforce Outbound Message door. Outbound messages cannot be signed, so a message is
 * accepted only with the secret token in its URL and from an allow-listed Organization Id.
 * Each notification is checked once however often Salesforce resends it (README › Salesforce):
 * its Id is a Powertools idempotency record, as a webhook-id is for the CRM webhook.
 */
export function createSalesforceOutbound(deps: {
  orgIds: string[];
  token: SecretSource;
  checkNewUsers: CheckNewUsers;
  persistence: BasePersistenceLayer;
  logger: Logger;
}): SalesforceOutbound {
  const allowed = new Set(deps.orgIds.map((id) => id.slice(0, 15)));
  const { persistence } = deps;
  // The persistence layer's own calls, not makeIdempotent: one message carries up to 100
  // notifications, and the new ones among them are checked together, in one Gong call.
  persistence.configure({
    config: new IdempotencyConfig({
      eventKeyJmesPath: 'notification',
      throwOnNoIdempotencyKey: true,
      expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    }),
    keyPrefix: IDEMPOTENCY_NAME,
  });
  const keyOf = (organizationId: string, n: OutboundNotification) => ({
    notification: `${organizationId.slice(0, 15)}/${n.id}`,
  });

  async function claim(key: { notification: string }, deadline: number): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // Held until the deadline: an invocation that dies leaves a claim the next delivery can take.
        await persistence.saveInProgress(key, Math.max(1, deadline - Date.now()));
        return 'claimed';
      } catch (error: unknown) {
        if (!(error instanceof IdempotencyItemAlreadyExistsError)) throw error;
        const record = error.existingRecord ?? (await recordOf(key));
        const status = record?.getStatus();
        if (status === IdempotencyRecordStatus.COMPLETED) return 'done';
        if (status === IdempotencyRecordStatus.INPROGRESS) return 'busy';
        // Gone or expired between the put and the read: try to take it again.
      }
    }
    return 'busy';
  }

  async function recordOf(key: { notification: string }): Promise<IdempotencyRecord | undefined> {
    try {
      return await persistence.getRecord(key);
    } catch (error: unknown) {
      if (error instanceof IdempotencyItemNotFoundError) return undefined;
      throw error;
    }
  }

  /** Waits for another invocation's check of the notification: done, or given up (then ours to check). */
  async function awaitOther(key: { notification: string }, deadline: number): Promise<Claim> {
    const until = Math.min(deadline, Date.now() + IN_PROGRESS_WAIT_MS);
    while (Date.now() < until) {
      await sleep(IN_PROGRESS_POLL_MS);
      const status = (await recordOf(key))?.getStatus();
      if (status === IdempotencyRecordStatus.COMPLETED) return 'done';
      if (status !== IdempotencyRecordStatus.INPROGRESS) {
        const again = await claim(key, deadline);
        if (again !== 'busy') return again;
      }
    }
    return 'busy';
  }

  /** Checks the claimed notifications' users together; releases the claims when the check fails, so a resend checks them. */
  async function checkClaimed(
    organizationId: string,
    users: UserNotification[],
    invocation: { requestId: string; deadline: number },
  ) {
    const keys = users.map((n) => keyOf(organizationId, n));
    let outcome: Awaited<ReturnType<CheckNewUsers>>;
    try {
      outcome = await deps.checkNewUsers(
        users.map((n) => n.email),
        { source: 'salesforce', requestId: invocation.requestId, deadline: invocation.deadline },
      );
    } catch (error: unknown) {
      const released = await Promise.allSettled(keys.map((key) => persistence.deleteRecord(key)));
      const stuck = released.filter((r) => r.status === 'rejected').length;
      if (stuck > 0) deps.logger.warn('Could not release notification claims', { count: stuck });
      throw error;
    }
    await Promise.all(keys.map((key, i) => persistence.saveSuccess(key, { email: users[i]?.email ?? '' })));
    return outcome;
  }
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
        (n): n is UserNotification => n.objectType === 'User' && n.email !== undefined,
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

      const { organizationId } = message;
      const claims = await Promise.all(
        users.map((n) => claim(keyOf(organizationId, n), invocation.deadline)),
      );
      const ours = users.filter((_, i) => claims[i] === 'claimed');
      let checked = 0;
      if (ours.length > 0) {
        const { report, pending } = await checkClaimed(organizationId, ours, invocation);
        checked += report.results.length;
        deps.logger.info('Checked outbound message users', {
          actionId: message.actionId,
          summary: report.summary,
          pending: pending.length,
        });
      }
      // A resend while the first delivery is still checking (Salesforce gave up waiting on it) waits for
      // that check rather than making a second one; the Ack must not come before the users are checked.
      const others = users.filter((_, i) => claims[i] === 'busy');
      const outcomes = await Promise.all(
        others.map((n) => awaitOther(keyOf(organizationId, n), invocation.deadline)),
      );
      const released = others.filter((_, i) => outcomes[i] === 'claimed');
      if (released.length > 0) {
        checked += (await checkClaimed(organizationId, released, invocation)).report.results.length;
      }
      if (outcomes.includes('busy')) {
        throw new HttpError(
          503,
          'NOTIFICATION_IN_PROGRESS',
          'Another delivery of this outbound message is still being checked; Salesforce will resend it',
        );
      }
      const duplicates = users.length - ours.length - released.length;
      if (duplicates > 0) deps.logger.info('Acknowledged notifications checked before', { duplicates });
      return { checked, skipped, duplicates };
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
