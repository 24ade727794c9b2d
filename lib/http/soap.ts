import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HttpError, ValidationError } from '#lib/errors.ts';

const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
/** The namespace of Salesforce's outbound-message WSDL (notifications, notificationsResponse). */
export const OUTBOUND_NS = 'http://soap.sforce.com/2005/09/outbound';

const XML_HEADERS = { 'content-type': 'text/xml; charset=utf-8' };

/** The acknowledgement Salesforce waits for; anything else and it retries the message for up to 24 hours. */
export function ackResponse(): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: XML_HEADERS,
    body: envelope(`<notificationsResponse xmlns="${OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>`),
  };
}

/** A SOAP 1.1 fault with the HTTP status of the error: 4xx keep their message, anything else is a bare 500. */
export function soapFaultResponse(
  error: unknown,
  requestId: string,
  logger: Logger,
): APIGatewayProxyStructuredResultV2 {
  let statusCode = 500;
  let code = 'INTERNAL';
  let message = 'Internal error; quote the requestId';
  let headers: Record<string, string> = {};
  if (error instanceof HttpError || error instanceof ValidationError) {
    ({ statusCode, code, message } = error);
    if (error instanceof HttpError) headers = error.headers;
    if (statusCode >= 500) logger.error('Outbound message failed', { code, message });
  } else {
    logger.error('Unhandled error', { error: error instanceof Error ? error : String(error) });
  }
  const faultcode = statusCode < 500 ? 'soapenv:Client' : 'soapenv:Server';
  return {
    statusCode,
    headers: { ...XML_HEADERS, ...headers },
    body: envelope(
      `<soapenv:Fault><faultcode>${faultcode}</faultcode><faultstring>${escapeXml(message)}</faultstring>` +
        `<detail><code>${escapeXml(code)}</code><requestId>${escapeXml(requestId)}</requestId></detail></soapenv:Fault>`,
    ),
  };
}

/** middy middleware answering every error with soapFaultResponse. */
export function soapErrors(logger: Logger): MiddlewareObj<unknown, unknown> {
  return {
    onError: async (request) => {
      request.response = soapFaultResponse(request.error, request.context.awsRequestId ?? 'unknown', logger);
    },
  };
}

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NS}"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
