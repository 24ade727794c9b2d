import { ValidationError } from '#lib/errors/errors.ts';

/** What a listing's cursor must decode to: exactly these key attributes, and a key of this listing. */
export interface CursorShape {
  attributes: readonly string[];
  /** True when the decoded key could have come from this very listing (its partition, its item kind). */
  belongs?: (key: Record<string, string>) => boolean;
}

/** The opaque cursor of a listing's next page: its LastEvaluatedKey as base64url JSON. */
export function encodeCursor(lastKey: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(lastKey)).toString('base64url');
}

/**
 * The start key a cursor stands for, validated: a cursor must be one we issued for this very
 * listing. DynamoDB refuses a start key with missing, extra or non-string attributes, which would
 * surface as a 500, not a 400 — and a key of another partition would read what the caller did not ask for.
 */
export function decodeCursor(cursor: string, shape: CursorShape): Record<string, string> {
  const key = parseKey(cursor);
  if (!key || !hasExactly(key, shape.attributes) || (shape.belongs && !shape.belongs(key))) {
    throw new ValidationError('"cursor" is not a cursor this listing gave out', { code: 'CURSOR_INVALID' });
  }
  return key;
}

function parseKey(cursor: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed);
  if (!entries.every(([, value]) => typeof value === 'string' && value.length > 0)) return undefined;
  return Object.fromEntries(entries) as Record<string, string>;
}

function hasExactly(key: Record<string, string>, attributes: readonly string[]): boolean {
  const names = Object.keys(key);
  return names.length === attributes.length && attributes.every((name) => Object.hasOwn(key, name));
}
