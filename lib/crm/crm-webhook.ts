import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import type { UserResult } from '#lib/check/report.ts';
import type { CheckNewUsers } from '#lib/crm/new-user-check.ts';
import type { SecretSource } from '#lib/crm/secret-field.ts';
import { ConfigError, HttpError } from '#lib/errors/errors.ts';

/** The one event type this endpoint accepts (README "CRM webhook"). */
export const USER_CREATED = 'user.created';
/** Name of the idempotency records' partition and key prefix. */
export const IDEMPOTENCY_NAME = 'crmWebhook';
/** Senders retry for hours or days (Standard Webhooks senders for about a day): keep delivery ids 3 days. */
const IDEMPOTENCY_TTL_SECONDS = 3 * 86_400;

/** A verified, well-formed `user.created` delivery. */
export interface UserCreated {
  webhookId: string;
  email: string;
  userId?: string;
}

/** What the endpoint answers for an accepted delivery, the first time and on every redelivery. */
export interface CrmWebhookAnswer {
  webhookId: string;
  email: string;
  userId?: string;
  result: UserResult;
  /** True when Gong does not know the user yet and re-checks are scheduled. */
  pending: boolean;
}

export interface CrmWebhook {
  receive(
    request: { body: string; headers: Record<string, string | undefined> },
    invocation: { context: Context; deadline: number },
  ): Promise<CrmWebhookAnswer>;
}

/**
 * The CRM `user.created` webhook: verify (Standard Webhooks, on the raw body), validate,
 * then check the user once per `webhook-id` (Powertools idempotency), however often it is delivered.
 */
export function createCrmWebhook(deps: {
  secret: SecretSource;
  checkNewUsers: CheckNewUsers;
  persistence: BasePersistenceLayer;
}): CrmWebhook {
  let verifier: { secret: string; webhook: Webhook } | undefined;
  async function webhook(): Promise<Webhook> {
    const secret = await deps.secret();
    if (verifier?.secret !== secret) {
      try {
        verifier = { secret, webhook: new Webhook(secret) };
      } catch {
        // The package's own message could describe the value: name the setting only.
        throw new ConfigError(
          'The CRM webhook signing secret is not a Standard Webhooks secret (whsec_<base64>)',
        );
      }
    }
    return verifier.webhook;
  }

  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'webhookId',
    // The same id carrying a different user is a sender bug, not a redelivery.
    payloadValidationJmesPath: 'email',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
  });
  const checkOnce = makeIdempotent(
    async (event: UserCreated, invocation: { requestId: string; deadline: number }) => {
      const { report, pending } = await deps.checkNewUsers([event.email], {
        source: 'crm',
        requestId: invocation.requestId,
        deadline: invocation.deadline,
      });
      const result = report.results[0];
      // assertGongAnswered guarantees one result for one email; this only satisfies the type.
      if (!result) throw new Error('Check report has no result for the delivered user');
      const answer: CrmWebhookAnswer = {
        webhookId: event.webhookId,
        email: event.email,
        result,
        pending: pending.length > 0,
      };
      if (event.userId !== undefined) answer.userId = event.userId;
      return answer;
    },
    { persistenceStore: deps.persistence, config, keyPrefix: IDEMPOTENCY_NAME },
  );

  return {
    async receive(request, invocation) {
      const webhookId = verifyDelivery(await webhook(), request.body, request.headers);
      const event = { webhookId, ...parseUserCreated(request.body) };
      config.registerLambdaContext(invocation.context);
      try {
        return await checkOnce(event, {
          requestId: invocation.context.awsRequestId,
          deadline: invocation.deadline,
        });
      } catch (error: unknown) {
        if (error instanceof IdempotencyAlreadyInProgressError) {
          throw new HttpError(
            409,
            'DELIVERY_IN_PROGRESS',
            `Delivery ${webhookId} is being processed; retry later`,
            {
              headers: { 'retry-after': '10' },
            },
          );
        }
        if (error instanceof IdempotencyValidationError) {
          throw new HttpError(
            422,
            'WEBHOOK_ID_REUSED',
            `webhook-id ${webhookId} was already delivered with a different user; a new event needs a new id`,
          );
        }
        throw error;
      }
    },
  };
}

/** Checks the Standard Webhooks signature and timestamp (5-minute tolerance); returns the delivery id or throws 401. */
function verifyDelivery(webhook: Webhook, body: string, headers: Record<string, string | undefined>): string {
  // Header names are case-insensitive (RFC 9110); API Gateway lower-cases them, a direct invocation may not.
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), value);
  }
  const signed = {
    'webhook-id': byName.get('webhook-id') ?? '',
    'webhook-timestamp': byName.get('webhook-timestamp') ?? '',
    'webhook-signature': byName.get('webhook-signature') ?? '',
  };
  try {
    // jsonParse off: the body is parsed only after it is known to be authentic, by our own rules.
    webhook.verify(body, signed, { jsonParse: false });
  } catch (error: unknown) {
    // The package's messages (missing headers, too old, no matching signature) say nothing secret.
    const reason =
      error instanceof WebhookVerificationError ? error.message : 'signature could not be checked';
    throw new HttpError(401, 'SIGNATURE_INVALID', `Webhook signature rejected: ${reason}`);
  }
  return signed['webhook-id'];
}

/** Validates a verified body as `{"type":"user.created","data":{"email","userId"?}}`; throws a 400 naming the problem. */
function parseUserCreated(body: string): Omit<UserCreated, 'webhookId'> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'Request body is not valid JSON');
  }
  if (!isObject(json)) {
    throw new HttpError(400, 'BAD_EVENT', 'Request body must be a JSON object {"type", "timestamp", "data"}');
  }
  if (typeof json.type !== 'string' || json.type === '') {
    throw new HttpError(400, 'TYPE_MISSING', `"type" is missing; expected "${USER_CREATED}"`);
  }
  if (json.type !== USER_CREATED) {
    throw new HttpError(
      400,
      'UNSUPPORTED_TYPE',
      `Event type ${quote(json.type)} is not supported; this endpoint accepts "${USER_CREATED}"`,
    );
  }
  const data = isObject(json.data) ? json.data : undefined;
  if (typeof data?.email !== 'string' || data.email.trim() === '') {
    throw new HttpError(400, 'EMAIL_MISSING', '"data.email" is missing');
  }
  const email = normaliseEmail(data.email);
  if (!isEmail(email)) {
    throw new HttpError(400, 'EMAIL_INVALID', `"data.email" is not an email: ${quote(data.email)}`);
  }
  if (data.userId !== undefined && typeof data.userId !== 'string') {
    throw new HttpError(400, 'USER_ID_INVALID', '"data.userId" must be a string when present');
  }
  return data.userId === undefined ? { email } : { email, userId: data.userId };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
