import { performance } from 'node:perf_hooks';

let offset = Date.now() - performance.now();
let last = Number.NEGATIVE_INFINITY;

/**
 * Wall-clock epoch milliseconds with sub-millisecond resolution, for pacing Gong calls: Date.now()
 * counts whole milliseconds, and a send stamped up to a millisecond early lets the next call start
 * up to a millisecond too soon (or, rounded the other way, drifts a millisecond a call). The
 * monotonic clock gives the fraction; it is pulled back into the millisecond Date.now() names
 * whenever it strays, so containers on different hosts still share one wall-clock grid. Never
 * goes backwards.
 */
export function wallClockMs(): number {
  const coarse = Date.now();
  let fine = offset + performance.now();
  if (fine < coarse || fine >= coarse + 1) {
    offset = coarse - performance.now();
    fine = coarse;
  }
  last = Math.max(last, fine);
  return last;
}
