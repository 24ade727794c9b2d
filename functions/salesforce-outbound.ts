import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createSalesforceOutbound, IDEMPOTENCY_NAME } from '#lib/crm/salesforce-outbound.ts';
import { rawBody } from '#lib/http/responses.ts';
import { ackResponse, soapErrors } from '#lib/http/soap.ts';
import { deadlineOf } from '#lib/invocation/deadline.ts';
import { createIdempotencyStore } from '#lib/table/idempotency-store.ts';
import { readSalesforceConfig } from './wiring/config.ts';
import { wireCrm } from './wiring/crm.ts';
import { createDoorMetrics } from './wiring/metrics.ts';

const settings = readSalesforceConfig();
const metrics = createDoorMetrics('salesforceOutbound');
const { core, secret, checkNewUsers } = wireCrm(settings.token, metrics.record);
const outbound = createSalesforceOutbound({
  orgIds: settings.orgIds,
  token: secret,
  checkNewUsers,
  persistence: createIdempotencyStore({
    client: core.clients.dynamo,
    table: core.config.table,
    name: IDEMPOTENCY_NAME,
  }),
  logger: core.logger,
});

/** `POST /webhooks/salesforce/outbound-message?token=…`: a SOAP outbound message of new Users → the SOAP Ack. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .before((request) => core.logger.addContext(request.context))
  .use(metrics.middleware())
  .use(soapErrors(core.logger))
  .handler(async (event, context) => {
    await outbound.receive(
      { body: rawBody(event), token: event.queryStringParameters?.token },
      { requestId: context.awsRequestId, deadline: deadlineOf(context) },
    );
    return ackResponse();
  });
