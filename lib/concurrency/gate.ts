/**
 * Lets at most `limit` tasks hold a place at once across all its callers; the others wait their
 * turn, first come first served. A task gives its place back when it ends, or earlier by calling
 * the `release` it is handed (for work whose tail need not be bounded).
 */
export function createGate(limit: number): <T>(task: (release: () => void) => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: (release: () => void) => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      // Hand the place straight to the next waiter, so no newcomer can slip in between.
      const next = waiting.shift();
      if (next) next();
      else active--;
    };
    try {
      return await task(release);
    } finally {
      release();
    }
  };
}
