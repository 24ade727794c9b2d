/** Gong's rate limit as the sandbox plays it: `rps` tokens a second, at most `burst` saved up. */
export function createTokenBucket(rps: number, burst: number) {
  let tokens = burst;
  let refilledAt = performance.now();
  /** 0 when a token was taken, else the whole seconds until one is available (a Retry-After). */
  return function take(): number {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - refilledAt) / 1000) * rps);
    refilledAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - tokens) / rps));
  };
}
