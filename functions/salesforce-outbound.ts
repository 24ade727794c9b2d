import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { readSalesforceConfig } from '#lib/crm/config.ts';
import { createNewUserCheck } from '#lib/crm/new-user-check.ts';
import { createPendingStore } from '#lib/crm/pending-store.ts';
import { createSalesforceOutbound } from '#lib/crm/salesforce-outbound.ts';
import { secretSourceOf } from '#lib/crm/secret-field.ts';
import { deadlineOf } from '#lib/deadline.ts';
import { rawBody } from '#lib/http/responses.ts';
import { ackResponse, soapErrors } from '#lib/http/soap.ts';
import { wireCore } from './wiring/core.ts';

const core = wireCore();
const settings = readSalesforceConfig(process.env);
const outbound = createSalesforceOutbound({
  orgIds: settings.orgIds,
  token: secretSourceOf(settings.token, core.clients.secrets),
  checkNewUsers: createNewUserCheck({
    checkUsers: core.checkUsers,
    pending: createPendingStore({ db: core.clients.db, table: core.config.table }),
  }),
  logger: core.logger,
});

/** `POST /webhooks/salesforce/outbound-message?token=…`: a SOAP outbound message of new Users → the SOAP Ack. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .before((request) => core.logger.addContext(request.context))
  .use(soapErrors(core.logger))
  .handler(async (event, context) => {
    await outbound.receive(
      { body: rawBody(event), token: event.queryStringParameters?.token },
      { requestId: context.awsRequestId, deadline: deadlineOf(context) },
    );
    return ackResponse();
  });
