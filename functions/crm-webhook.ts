import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { readCrmWebhookSecret } from '#lib/crm/config.ts';
import { createCrmWebhook, IDEMPOTENCY_NAME } from '#lib/crm/crm-webhook.ts';
import { createNewUserCheck } from '#lib/crm/new-user-check.ts';
import { createPendingStore } from '#lib/crm/pending-store.ts';
import { secretSourceOf } from '#lib/crm/secret-field.ts';
import { deadlineOf } from '#lib/deadline.ts';
import { httpErrors, json, rawBody } from '#lib/http/responses.ts';
import { createIdempotencyStore } from '#lib/table/idempotency-store.ts';
import { wireCore } from './wiring/core.ts';

const core = wireCore();
const { db, secrets } = core.clients;
const webhook = createCrmWebhook({
  secret: secretSourceOf(readCrmWebhookSecret(process.env), secrets),
  checkNewUsers: createNewUserCheck({
    checkUsers: core.checkUsers,
    pending: createPendingStore({ db, table: core.config.table }),
  }),
  persistence: createIdempotencyStore({
    client: core.clients.dynamo,
    table: core.config.table,
    name: IDEMPOTENCY_NAME,
  }),
});

/** `POST /webhooks/crm/user-created`: a Standard Webhooks `user.created` delivery → 200 with the user's result. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .before((request) => core.logger.addContext(request.context))
  .use(httpErrors(core.logger))
  .handler(async (event, context) => {
    const answer = await webhook.receive(
      { body: rawBody(event), headers: event.headers ?? {} },
      { context, deadline: deadlineOf(context) },
    );
    return json(200, answer);
  });
