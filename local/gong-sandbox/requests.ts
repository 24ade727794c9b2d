import { FAULT_KINDS, type SandboxFault } from './faults.ts';
import type { SandboxUser } from './users.ts';

export const MAX_EMAILS_PER_CALL = 100;

export function parseEmails(raw: string): string[] | string {
  const body = parseJson(raw);
  if (body === undefined) return 'Request body is not valid JSON';
  if (typeof body !== 'object' || body === null || !('emails' in body))
    return "Missing required field 'emails'";
  const { emails } = body;
  if (!Array.isArray(emails) || !emails.every((email) => typeof email === 'string')) {
    return "Field 'emails' must be an array of strings";
  }
  if (emails.length === 0) return "Field 'emails' must contain at least 1 email";
  if (emails.length > MAX_EMAILS_PER_CALL) {
    return `Field 'emails' must contain at most ${MAX_EMAILS_PER_CALL} emails (got ${emails.length})`;
  }
  return emails;
}

export function isAuthorized(header: string | undefined, basic: string, bearer: string): boolean {
  if (!header) return false;
  const [scheme, credentials = ''] = header.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') return credentials === bearer;
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(credentials, 'base64').toString('utf8') === basic;
  return false;
}

export function isSandboxUser(value: unknown): value is SandboxUser {
  if (typeof value !== 'object' || value === null) return false;
  const user = value as Record<string, unknown>;
  const optionalString = (key: string) => user[key] === undefined || typeof user[key] === 'string';
  return (
    typeof user.email === 'string' &&
    typeof user.exists === 'boolean' &&
    typeof user.valid === 'boolean' &&
    optionalString('userFacingError') &&
    optionalString('fixUrl') &&
    optionalString('helpUrl')
  );
}

export function isSandboxFault(value: unknown): value is SandboxFault {
  if (typeof value !== 'object' || value === null) return false;
  const fault = value as Record<string, unknown>;
  if (typeof fault.kind !== 'string' || !FAULT_KINDS.has(fault.kind)) return false;
  const isStringArray = (item: unknown) =>
    Array.isArray(item) && item.every((entry) => typeof entry === 'string');
  switch (fault.kind) {
    case 'status':
      return (
        Number.isInteger(fault.status) &&
        (fault.status as number) >= 100 &&
        (fault.status as number) <= 599 &&
        (fault.retryAfterSeconds === undefined || typeof fault.retryAfterSeconds === 'number') &&
        (fault.errors === undefined || isStringArray(fault.errors))
      );
    case 'slow':
      return typeof fault.ms === 'number' && fault.ms >= 0;
    case 'omit':
      return fault.emails === undefined || isStringArray(fault.emails);
    case 'garbage':
      return fault.body === undefined || typeof fault.body === 'string';
    default:
      return true;
  }
}

export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
