import type { SandboxUser } from './users.ts';

/** One scripted answer for a user: what Gong says about them this time, and how long it takes. */
export interface ScriptedAnswer {
  user: Omit<SandboxUser, 'email'>;
  delayMs?: number;
}

/**
 * Per-user answer sequences: each status call that names a scripted user takes that user's next
 * answer (and waits its delay, the longest of the call's); once a script runs out, the user is
 * answered as usual. Lets a test make overlapping checks of one user answer differently.
 */
export function createAnswerScripts() {
  const scripts = new Map<string, ScriptedAnswer[]>();
  return {
    set(email: string, answers: ScriptedAnswer[]): void {
      scripts.set(email.toLowerCase(), [...answers]);
    },
    /** Takes the next answer for each scripted email of a call, in the call's order. */
    take(emails: readonly string[]): { answers: Map<string, ScriptedAnswer['user']>; delayMs: number } {
      const answers = new Map<string, ScriptedAnswer['user']>();
      let delayMs = 0;
      for (const email of emails) {
        const key = email.toLowerCase();
        const next = scripts.get(key)?.shift();
        if (!next || answers.has(key)) continue;
        answers.set(key, next.user);
        delayMs = Math.max(delayMs, next.delayMs ?? 0);
      }
      return { answers, delayMs };
    },
  };
}
