import { describe, expect, it } from 'vitest';
import { formatDuration, recordableShare, toSpells } from '../../web/timeline.ts';
import type { Status, StoredResult } from '../../web/types.ts';

const check = (status: Status, checkedAt: string, extra: Partial<StoredResult> = {}): StoredResult => ({
  email: 'ada@example.com',
  status,
  checkedAt,
  ...extra,
});

describe('toSpells', () => {
  it('returns one spell per run of one status, newest first, each lasting until the next began', () => {
    const newestFirst = [
      check('OK', '2026-11-05T00:00:00.000Z'),
      check('INVALID', '2026-11-03T12:00:00.000Z', {
        userFacingError: 'Consent missing',
        fixUrl: 'https://fix/2',
      }),
      check('INVALID', '2026-11-02T00:00:00.000Z', {
        userFacingError: 'Consent old',
        fixUrl: 'https://fix/1',
      }),
      check('OK', '2026-11-01T00:00:00.000Z'),
    ];

    const spells = toSpells(newestFirst, new Date('2026-11-06T00:00:00.000Z'));

    expect(spells.map((s) => [s.status, s.from, s.until, s.checks])).toEqual([
      ['OK', '2026-11-05T00:00:00.000Z', undefined, 1],
      ['INVALID', '2026-11-02T00:00:00.000Z', '2026-11-05T00:00:00.000Z', 2],
      ['OK', '2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z', 1],
    ]);
    expect(spells[1]?.durationMs).toBe(3 * 24 * 3600_000);
    expect(spells[1]).toMatchObject({ message: 'Consent missing', fixUrl: 'https://fix/2' });
    expect(spells[0]?.durationMs).toBe(24 * 3600_000);
  });

  it('returns an ongoing broken spell lasting until now when the latest check is broken', () => {
    const spells = toSpells(
      [check('NOT_IN_GONG', '2026-11-01T10:00:00.000Z'), check('OK', '2026-11-01T09:00:00.000Z')],
      new Date('2026-11-01T12:30:00.000Z'),
    );

    expect(spells[0]).toMatchObject({
      status: 'NOT_IN_GONG',
      durationMs: 2.5 * 3600_000,
      startedEarlier: false,
    });
    expect(spells[0]?.until).toBeUndefined();
  });

  it('marks the oldest spell as started earlier when the history was cut', () => {
    const spells = toSpells(
      [check('OK', '2026-11-02T00:00:00.000Z'), check('INVALID', '2026-11-01T00:00:00.000Z')],
      new Date('2026-11-03T00:00:00.000Z'),
      { truncated: true },
    );

    expect(spells.map((s) => s.startedEarlier)).toEqual([false, true]);
  });

  it('sorts by check time when the items come out of order', () => {
    const spells = toSpells(
      [check('OK', '2026-11-01T00:00:00.000Z'), check('INVALID', '2026-11-02T00:00:00.000Z')],
      new Date('2026-11-03T00:00:00.000Z'),
    );

    expect(spells.map((s) => s.status)).toEqual(['INVALID', 'OK']);
  });

  it('returns no spells when there is no history', () => {
    expect(toSpells([], new Date())).toEqual([]);
  });
});

describe('formatDuration', () => {
  it.each([
    [30_000, 'under a minute'],
    [60_000, '1 minute'],
    [5 * 60_000, '5 minutes'],
    [3600_000, '1 hour'],
    [2 * 3600_000 + 5 * 60_000, '2 hours 5 minutes'],
    [24 * 3600_000, '1 day'],
    [3 * 24 * 3600_000 + 4 * 3600_000 + 59 * 60_000, '3 days 4 hours'],
  ])('returns %s ms as "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('recordableShare', () => {
  it('returns OK over total as a percentage with one decimal', () => {
    expect(recordableShare({ ok: 2, invalid: 1, notInGong: 0 })).toBe(66.7);
  });

  it('returns undefined when nobody was counted', () => {
    expect(recordableShare({ ok: 0, invalid: 0, notInGong: 0 })).toBeUndefined();
  });
});
