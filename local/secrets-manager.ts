import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, readBody } from '#local/http-server.ts';

/** A running loopback Secrets Manager. */
export interface SecretsManagerStandIn {
  url: string;
  getCalls(secretId?: string): number;
  setSecret(id: string, value: string): void;
  /** From now on `GetSecretValue` of this secret is AccessDeniedException naming `principalArn`, as AWS words it; undefined lifts it. */
  denyAccess(id: string, principalArn: string | undefined): void;
  close(): Promise<void>;
}

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
  createdDate: number;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const JSON_11 = 'application/x-amz-json-1.1';

/** Starts a loopback AWS Secrets Manager that answers `GetSecretValue` over the real JSON 1.1 protocol. */
export async function startSecretsManager(
  options: { secrets?: Record<string, string>; port?: number; host?: string } = {},
): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, StoredSecret>();
  const calls: { asked: string; name: string | undefined }[] = [];
  const denied = new Map<string, string>();

  const setSecret = (name: string, value: string): void => {
    const existing = secrets.get(name);
    secrets.set(name, {
      // Real ARNs end in a dash and six random characters after the name.
      arn: existing?.arn ?? `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${suffix()}`,
      name,
      value,
      versionId: randomUUID(),
      createdDate: existing?.createdDate ?? Math.floor(Date.now() / 1000),
    });
  };
  for (const [name, value] of Object.entries(options.secrets ?? {})) setSecret(name, value);

  const find = (secretId: string): StoredSecret | undefined =>
    secrets.get(secretId) ?? [...secrets.values()].find((secret) => secret.arn === secretId);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const target = req.headers['x-amz-target'];
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://local').pathname !== '/') {
      return sendError(res, 404, 'UnknownOperationException', `No route for ${req.method} ${req.url}`);
    }
    if (target !== 'secretsmanager.GetSecretValue') {
      return sendError(res, 400, 'UnknownOperationException', `Unsupported operation ${String(target)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendError(res, 400, 'SerializationException', 'Request body is not valid JSON');
    }
    const secretId = (body as { SecretId?: unknown } | null)?.SecretId;
    if (typeof secretId !== 'string' || secretId === '') {
      return sendError(
        res,
        400,
        'ValidationException',
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
      );
    }
    const secret = find(secretId);
    calls.push({ asked: secretId, name: secret?.name });
    const principal = denied.get(secret?.name ?? secretId);
    if (principal) {
      return sendError(
        res,
        400,
        'AccessDeniedException',
        `User: ${principal} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secret?.arn ?? secretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      );
    }
    if (!secret) {
      return sendError(
        res,
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    send(res, 200, {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.value,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate,
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendError(res, 500, 'InternalServiceError', error instanceof Error ? error.message : String(error));
    });
  });
  const listening = await listen(server, options);

  return {
    url: listening.url,
    getCalls(secretId) {
      if (secretId === undefined) return calls.length;
      return calls.filter((call) => call.asked === secretId || call.name === secretId).length;
    },
    setSecret,
    denyAccess(id, principalArn) {
      if (principalArn === undefined) denied.delete(id);
      else denied.set(id, principalArn);
    },
    close: listening.close,
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': JSON_11, 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  send(res, status, { __type: type, message }, { 'x-amzn-errortype': type });
}

function suffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return Array.from(randomBytes(6), (byte) => alphabet[byte % alphabet.length]).join('');
}
