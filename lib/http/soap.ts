import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { publicError } from '#lib/http/public-error.ts';

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

/** A SOAP 1.1 fault with the HTTP status of the error, by the one rule of lib/http/public-error.ts. */
export function soapFaultResponse(
  error: unknown,
  requestId: string,
  logger: Logger,
): APIGatewayProxyStructuredResultV2 {
  const { statusCode, code, message, headers, exposed } = publicError(error);
  if (!exposed) {
    logger.error('Unhandled error', { error: error instanceof Error ? error : String(error) });
  } else if (statusCode >= 500) {
    logger.error('Outbound message failed', { code, message });
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
