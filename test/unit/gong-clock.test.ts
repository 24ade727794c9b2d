import { describe, expect, it } from 'vitest';
import { wallClockMs } from '#lib/gong/clock.ts';

describe('wallClockMs', () => {
  it('stays within the millisecond Date.now() names, never goes back, and resolves below a millisecond', () => {
    let previous = Number.NEGATIVE_INFINITY;
    let outside = 0;
    let backwards = 0;
    let fractional = 0;
    for (let i = 0; i < 200_000; i++) {
      const before = Date.now();
      const at = wallClockMs();
      const after = Date.now();
      if (at < before || at >= after + 1) outside++;
      if (at < previous) backwards++;
      if (!Number.isInteger(at)) fractional++;
      previous = at;
    }
    expect({ outside, backwards }).toEqual({ outside: 0, backwards: 0 });
    expect(fractional).toBeGreaterThan(1000);
  });
});
