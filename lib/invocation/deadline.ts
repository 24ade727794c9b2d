/** Time kept back from the Lambda deadline to answer and log after the last Gong call. */
const MARGIN_MS = 2_000;

/** The epoch ms by which work must end: the invocation's remaining time less a margin, or `fallbackMs` from now. */
export function deadlineOf(
  context: { getRemainingTimeInMillis?: () => number } | undefined,
  fallbackMs = 25_000,
) {
  const remaining = context?.getRemainingTimeInMillis?.();
  return Date.now() + (remaining === undefined ? fallbackMs : Math.max(0, remaining - MARGIN_MS));
}
