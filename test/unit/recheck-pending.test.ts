import { describe, expect, it } from 'vitest';
import { recheckWindowFrom } from '#lib/crm/recheck-pending.ts';

describe('recheckWindowFrom', () => {
  const now = new Date('2026-11-28T12:00:00.000Z');

  it("returns now for the schedule's EventBridge event or an empty one", () => {
    const scheduled = {
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2026-11-28T11:55:00Z',
    };
    expect(recheckWindowFrom(scheduled, now)).toEqual({ asOf: now, dueBy: now });
    expect(recheckWindowFrom({}, now)).toEqual({ asOf: now, dueBy: now });
    expect(recheckWindowFrom(undefined, now)).toEqual({ asOf: now, dueBy: now });
  });

  it('returns the asked time for both when a run by hand passes asOf', () => {
    const window = recheckWindowFrom({ asOf: '2026-12-01T00:00:00Z' }, now);
    expect(window.asOf.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(window.dueBy).toEqual(window.asOf);
  });

  it('returns a window holding every pending user, still as of now, when all is true', () => {
    const window = recheckWindowFrom({ all: true }, now);
    expect(window.asOf).toEqual(now);
    expect(window.dueBy.getTime()).toBeGreaterThan(now.getTime() + 10 * 365 * 86_400_000);
  });

  it('throws a ValidationError when asOf is not a time or all is not a boolean', () => {
    expect(() => recheckWindowFrom({ asOf: 'tomorrow' }, now)).toThrow(
      expect.objectContaining({ name: 'ValidationError' }),
    );
    expect(() => recheckWindowFrom({ asOf: 17 }, now)).toThrow(/"asOf" must be an ISO 8601 time/);
    expect(() => recheckWindowFrom({ all: 'yes' }, now)).toThrow(/"all" must be true or false/);
  });
});
