/** A misbehaviour the sandbox plays instead of (or on top of) a correct answer. */
export type SandboxFault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; errors?: string[] }
  | { kind: 'garbage'; body?: string }
  | { kind: 'omit'; emails?: string[] }
  | { kind: 'slow'; ms: number }
  | { kind: 'hang' }
  | { kind: 'reset' };

export const FAULT_KINDS = new Set(['status', 'garbage', 'omit', 'slow', 'hang', 'reset']);

/** Queued faults, each played `remaining` more times, oldest first. */
export function createFaultQueue() {
  const queue: { fault: SandboxFault; remaining: number }[] = [];
  return {
    push(fault: SandboxFault, times: number): void {
      queue.push({ fault, remaining: times });
    },
    /** The fault the next call plays, if any. */
    take(): SandboxFault | undefined {
      const head = queue[0];
      if (!head) return undefined;
      head.remaining -= 1;
      if (head.remaining <= 0) queue.shift();
      return head.fault;
    },
    queued: (): number => queue.reduce((sum, entry) => sum + entry.remaining, 0),
  };
}
