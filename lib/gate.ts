/**
 * Lets at most `limit` tasks run at once across all its callers; the others wait their turn, first
 * come first served.
 */
export function createGate(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the place straight to the next waiter, so no newcomer can slip in between.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
