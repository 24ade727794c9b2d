import { describe, expect, it } from 'vitest';
import {
  changeEventId,
  changePendingSortKey,
  enteredOnPrefix,
  gongBudgetKey,
  gongPauseKey,
  historyKey,
  idempotencyPartition,
  latestKey,
  nudgeKey,
  pendingDueBound,
  pendingKey,
  pendingSortKey,
  rateSlotPartition,
  rateSlotSortKey,
  STATUS_INDEX,
  SWEEP_LOCK_KEY,
  statusPartition,
  statusSortKey,
  sweepRunKey,
} from '#lib/table/keys.ts';

// The formats are stored data (and infra/roles.yml names some prefixes): these pin them, so a change
// that would orphan items already written fails here first.
describe('table keys', () => {
  it('returns the stored key formats of every item kind', () => {
    expect(STATUS_INDEX).toBe('gsi1');
    expect(latestKey('a@x.io')).toEqual({ pk: 'USER#a@x.io', sk: 'LATEST' });
    expect(historyKey('a@x.io', '2026-11-28T12:00:00.000Z', 'r1')).toEqual({
      pk: 'USER#a@x.io',
      sk: 'CHECK#2026-11-28T12:00:00.000Z#r1',
    });
    expect(statusPartition('NOT_IN_GONG')).toBe('STATUS#NOT_IN_GONG');
    expect(gongPauseKey('gong')).toEqual({ pk: 'RATE#gong', sk: 'PAUSE' });
    expect(gongBudgetKey('gong', '2026-11-28')).toEqual({ pk: 'RATE#gong', sk: 'BUDGET#2026-11-28' });
    expect(statusSortKey('2026-11-28T12:00:00.000Z', 'a@x.io')).toBe('2026-11-28T12:00:00.000Z#a@x.io');
    expect(changeEventId('2026-11-28T12:00:00.000Z', 'r1')).toBe('2026-11-28T12:00:00.000Z#r1');
    expect(changePendingSortKey('2026-11-28T12:00:00.000Z', 'a@x.io')).toBe(
      '2026-11-28T12:00:00.000Z#a@x.io',
    );
    expect(pendingKey('a@x.io')).toEqual({ pk: 'PENDING#a@x.io', sk: 'PENDING' });
    expect(pendingSortKey('2026-11-28T12:15:00.000Z', 'a@x.io')).toBe('2026-11-28T12:15:00.000Z#a@x.io');
    expect(rateSlotPartition('gong')).toBe('RATE#gong');
    expect(rateSlotSortKey(42)).toBe('0000000000000042');
    expect(idempotencyPartition('crmWebhook')).toBe('idempotency#crmWebhook');
    expect(SWEEP_LOCK_KEY).toEqual({ pk: 'SWEEP#lock', sk: 'LOCK' });
    expect(sweepRunKey('s1')).toEqual({ pk: 'SWEEP#run', sk: 's1' });
    expect(nudgeKey('a@x.io', '2026-11-28T12:00:00.000Z', 3)).toEqual({
      pk: 'NUDGE#a@x.io',
      sk: '2026-11-28T12:00:00.000Z#3',
    });
  });

  it('returns a status prefix that matches exactly the sort keys of users who entered on that day', () => {
    const prefix = enteredOnPrefix('2026-11-28');
    expect(statusSortKey('2026-11-28T23:59:59.999Z', 'a@x.io').startsWith(prefix)).toBe(true);
    expect(statusSortKey('2026-11-29T00:00:00.000Z', 'a@x.io').startsWith(prefix)).toBe(false);
  });

  it('returns a due bound above every pending sort key due by then and below every later one', () => {
    const bound = pendingDueBound('2026-11-28T12:00:00.000Z');
    expect(pendingSortKey('2026-11-28T12:00:00.000Z', 'zz@x.io') < bound).toBe(true);
    expect(pendingSortKey('2026-11-28T11:59:59.999Z', 'a@x.io') < bound).toBe(true);
    expect(pendingSortKey('2026-11-28T12:00:00.001Z', 'a@x.io') < bound).toBe(false);
  });
});
