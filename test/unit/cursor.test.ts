import { describe, expect, it } from 'vitest';
import { ValidationError } from '#lib/errors/errors.ts';
import { decodeCursor, encodeCursor } from '#lib/table/cursor.ts';

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const shape = { attributes: ['pk', 'sk'], belongs: (key: Record<string, string>) => key.pk === 'USER#a' };

function refusal(cursor: string): unknown {
  try {
    decodeCursor(cursor, shape);
  } catch (error: unknown) {
    return error;
  }
  return undefined;
}

describe('decodeCursor', () => {
  it('returns the key an encoded cursor stands for when it fits the listing', () => {
    const key = { pk: 'USER#a', sk: 'CHECK#2026-11-28T12:00:00.000Z#r1' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, shape)).toEqual(key);
  });

  it('returns the key whatever order its attributes come in', () => {
    expect(decodeCursor(raw({ sk: 's', pk: 'USER#a' }), shape)).toEqual({ pk: 'USER#a', sk: 's' });
  });

  it.each([
    ['not base64 JSON', 'Zm9v'],
    ['empty', ''],
    ['an array', raw(['USER#a', 's'])],
    ['null', raw(null)],
    ['a string', raw('USER#a')],
    ['a missing attribute', raw({ pk: 'USER#a' })],
    ['an extra attribute', raw({ pk: 'USER#a', sk: 's', gsi1pk: 'STATUS#OK' })],
    ['another attribute in place of one', raw({ pk: 'USER#a', gsi1sk: 's' })],
    ['a number value', raw({ pk: 'USER#a', sk: 3 })],
    ['a nested value', raw({ pk: 'USER#a', sk: { S: 's' } })],
    ['an empty value', raw({ pk: 'USER#a', sk: '' })],
    ['a key of another listing', raw({ pk: 'USER#b', sk: 's' })],
  ])('throws a 400 ValidationError naming "cursor" when the cursor is %s', (_, cursor) => {
    const error = refusal(cursor);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ statusCode: 400, code: 'CURSOR_INVALID' });
    expect((error as Error).message).toContain('"cursor"');
  });

  it('accepts any key with the attributes when the listing names no partition', () => {
    expect(decodeCursor(raw({ pk: 'x', sk: 'y' }), { attributes: ['pk', 'sk'] })).toEqual({
      pk: 'x',
      sk: 'y',
    });
  });
});
