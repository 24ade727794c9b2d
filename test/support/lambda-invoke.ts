import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import { listen, readBody } from '#local/http-server.ts';
import { lambdaContext } from './stack.ts';

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** One invoke as it arrived. */
export interface Invocation {
  functionName: string;
  type: 'Event' | 'RequestResponse' | 'DryRun';
  payload: unknown;
  receivedAt: number;
}

/** A loopback Lambda Invoke API that runs the given handlers (e.g. built bundles) in this process. */
export interface LambdaInvokeStandIn {
  /** What AWS_ENDPOINT_URL_LAMBDA takes. */
  url: string;
  invocations: Invocation[];
  /** Results and errors of finished async (`Event`) runs, in finishing order. */
  finished: { functionName: string; result?: unknown; error?: unknown }[];
  /** Resolves when every async run started so far has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Speaks `POST /2015-03-31/functions/{name}/invocations` as the SDK's LambdaClient calls it:
 * `X-Amz-Invocation-Type: Event` answers 202 at once and runs the handler in the background,
 * `RequestResponse` answers 200 with the result (or `X-Amz-Function-Error: Unhandled`).
 * A function is found by its bare name or by the name at the end of an ARN.
 */
export async function startLambdaInvoke(
  functions: Record<string, LambdaHandler>,
): Promise<LambdaInvokeStandIn> {
  const invocations: Invocation[] = [];
  const finished: LambdaInvokeStandIn['finished'] = [];
  const running = new Set<Promise<void>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(
      new URL(req.url ?? '/', 'http://lambda').pathname,
    );
    if (req.method !== 'POST' || !match?.[1])
      return sendError(res, 404, 'UnknownOperationException', `No route ${req.method} ${req.url}`);
    const requested = decodeURIComponent(match[1]);
    const functionName = requested.split(':function:').pop()?.split(':')[0] ?? requested;
    const handler = functions[functionName];
    if (!handler) return sendError(res, 404, 'ResourceNotFoundException', `Function not found: ${requested}`);
    const typeHeader = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (typeHeader !== 'Event' && typeHeader !== 'RequestResponse' && typeHeader !== 'DryRun') {
      return sendError(res, 400, 'InvalidParameterValueException', `Bad X-Amz-Invocation-Type ${typeHeader}`);
    }
    let payload: unknown;
    try {
      payload = raw === '' ? {} : JSON.parse(raw);
    } catch {
      return sendError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    invocations.push({ functionName, type: typeHeader, payload, receivedAt: Date.now() });
    if (typeHeader === 'DryRun') return send(res, 204, '', {});
    const context = lambdaContext(functionName);
    if (typeHeader === 'Event') {
      const run = handler(payload, context).then(
        (result) => {
          finished.push({ functionName, result });
        },
        (error: unknown) => {
          finished.push({ functionName, error });
        },
      );
      const tracked = run.finally(() => running.delete(tracked));
      running.add(tracked);
      return send(res, 202, '', {});
    }
    try {
      const result = await handler(payload, context);
      return send(res, 200, JSON.stringify(result ?? null), { 'x-amz-executed-version': '$LATEST' });
    } catch (error: unknown) {
      const body = {
        errorType: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message : String(error),
      };
      return send(res, 200, JSON.stringify(body), { 'x-amz-function-error': 'Unhandled' });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, 500, 'ServiceException', String(error)));
  });
  const listening = await listen(server);
  return {
    url: listening.url,
    invocations,
    finished,
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
    close: listening.close,
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

// The Lambda API's restJson1 errors: the type in x-amzn-ErrorType, the message in the body.
function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  send(res, status, JSON.stringify({ Type: 'User', message }), { 'x-amzn-errortype': type });
}
