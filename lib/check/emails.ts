import * as z from 'zod/mini';
import { ValidationError } from '#lib/errors/errors.ts';

const emailSchema = z.email();

/** Trims and lower-cases an email; the one canonical form used as a key everywhere. */
export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** True when the (normalised) string is an email address Gong could know. */
export function isEmail(value: string): boolean {
  return value.length <= 254 && emailSchema.safeParse(value).success;
}

/**
 * Normalises, validates and de-duplicates a list of emails, keeping first-seen order.
 * Throws a ValidationError naming every offending entry, before anything is checked.
 */
export function parseEmailList(input: unknown, options: { max?: number; field?: string } = {}): string[] {
  const field = options.field ?? 'emails';
  if (!Array.isArray(input)) {
    throw new ValidationError(`"${field}" must be an array of email strings`, { code: 'EMAILS_MISSING' });
  }
  if (input.length === 0) {
    throw new ValidationError(`"${field}" is empty: give at least one email`, { code: 'EMAILS_EMPTY' });
  }
  const bad: string[] = [];
  const seen = new Set<string>();
  input.forEach((entry, index) => {
    if (typeof entry !== 'string') {
      bad.push(`#${index} (${entry === null ? 'null' : typeof entry})`);
      return;
    }
    const email = normaliseEmail(entry);
    if (!isEmail(email)) {
      bad.push(`#${index} ${JSON.stringify(entry.length > 80 ? `${entry.slice(0, 80)}…` : entry)}`);
      return;
    }
    seen.add(email);
  });
  if (bad.length > 0) {
    const shown = bad.slice(0, 10).join(', ');
    const more = bad.length > 10 ? ` and ${bad.length - 10} more` : '';
    throw new ValidationError(`"${field}" has entries that are not emails: ${shown}${more}`, {
      code: 'EMAILS_INVALID',
    });
  }
  if (options.max !== undefined && seen.size > options.max) {
    throw new ValidationError(
      `"${field}" has ${seen.size} distinct emails; at most ${options.max} per request`,
      {
        code: 'EMAILS_TOO_MANY',
      },
    );
  }
  return [...seen];
}
