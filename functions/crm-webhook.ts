import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createCrmWebhook, IDEMPOTENCY_NAME } from '#lib/crm/crm-webhook.ts';
import { httpErrors, json, rawBody } from '#lib/http/responses.ts';
import { deadlineOf } from '#lib/invocation/deadline.ts';
import { createIdempotencyStore } from '#lib/table/idempotency-store.ts';
import { readCrmWebhookSecret } from './wiring/config.ts';
import { wireCrm } from './wiring/crm.ts';
import { createDoorMetrics } from './wiring/metrics.ts';

const metrics = createDoorMetrics('crmWebhook');
const { core, secret, checkNewUsers } = wireCrm(readCrmWebhookSecret(), metrics.record);
const webhook = createCrmWebhook({
  secret,
  checkNewUsers,
  persistence: createIdempotencyStore({
    client: core.clients.dynamo,
    table: core.config.table,
    name: IDEMPOTENCY_NAME,
  }),
});

/** `POST /webhooks/crm/user-created`: a Standard Webhooks `user.created` delivery → 200 with the user's result. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .before((request) => core.logger.addContext(request.context))
  .use(metrics.middleware())
  .use(httpErrors(core.logger))
  .handler(async (event, context) => {
    const answer = await webhook.receive(
      { body: rawBody(event), headers: event.headers ?? {} },
      { context, deadline: deadlineOf(context) },
    );
    return json(200, answer);
  });
