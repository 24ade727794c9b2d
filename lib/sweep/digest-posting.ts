import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type ChangeEvent, type ChangeLog, netChanges } from '#lib/history/change-log.ts';
import { buildChangeDigest } from '#lib/slack/digest.ts';
import type { SweepNotifier } from '#lib/sweep/notifier.ts';
import { moveOn } from '#lib/sweep/run-progress.ts';
import type { DigestPage, SweepRun, SweepStore } from '#lib/sweep/sweep-store.ts';

/** Attempts at saving that a digest was posted, beyond the SDK's own retries. */
const POSTED_SAVE_ATTEMPTS = 6;

async function saveInsistently(save: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await save();
    } catch (error: unknown) {
      if (attempt >= POSTED_SAVE_ATTEMPTS) throw error;
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
  }
}

/** Users per digest page item: each page stays far below DynamoDB's 400 KB item limit. */
const USERS_PER_PAGE = 100;

/** Who a digest names (or would name, before it is planned). */
export interface DigestNames {
  broke: string[];
  fixed: string[];
}

export interface DigestDeps {
  changes: ChangeLog;
  sweeps: SweepStore;
  notifier: SweepNotifier;
  logger: Logger;
  now: () => number;
  /** Told how many changes a posted digest named. */
  onPosted?: (changes: number) => void;
}

/**
 * The digest in three saved steps, so an invocation that dies anywhere is carried on by the next one
 * without telling a change twice or losing one: plan (the pending changes, frozen in digest pages),
 * post, then take exactly the planned events out of their outboxes. An event stored after the plan
 * stays pending and goes into the next digest.
 */
export function createDigestPosting(deps: DigestDeps) {
  const { changes, sweeps, logger } = deps;

  async function plan(run: SweepRun): Promise<NonNullable<SweepRun['digest']>> {
    const pending = await changes.listPending();
    const { broke, fixed } = netChanges(pending.flatMap((outbox) => outbox.events));
    const pages: DigestPage[] = [];
    const brokeBy = new Map(broke.map((event) => [event.email, event]));
    const fixedBy = new Map(fixed.map((event) => [event.email, event]));
    for (let i = 0; i < pending.length; i += USERS_PER_PAGE) {
      const slice = pending.slice(i, i + USERS_PER_PAGE);
      const pick = (by: Map<string, ChangeEvent>) =>
        slice
          .flatMap((outbox) => by.get(outbox.email) ?? [])
          .map(({ id: _id, ...event }: ChangeEvent & { id?: string }) => event);
      pages.push({
        broke: pick(brokeBy),
        fixed: pick(fixedBy),
        clear: slice.map((outbox) => ({ email: outbox.email, ids: outbox.events.map((event) => event.id) })),
      });
    }
    await sweeps.saveDigestPages(run.id, pages);
    return { state: 'planned', pages: pages.length, changes: broke.length + fixed.length };
  }

  async function post(run: SweepRun): Promise<void> {
    if (!run.digest) {
      run.digest = await plan(run);
      await sweeps.saveRun(run);
    }
    const pages = run.digest.pages > 0 ? await sweeps.loadDigestPages(run.id) : [];
    if (run.digest.state === 'planned') {
      const broke = pages.flatMap((page) => page.broke);
      const fixed = pages.flatMap((page) => page.fixed);
      if (broke.length + fixed.length > 0) {
        const [invalid, notInGong] = await Promise.all([
          sweeps.countStatus('INVALID'),
          sweeps.countStatus('NOT_IN_GONG'),
        ]);
        await deps.notifier.postDigest(
          buildChangeDigest({ broke, fixed, stillBroken: { invalid, notInGong }, checked: run.checked }),
        );
        deps.onPosted?.(broke.length + fixed.length);
      }
      // Saved at once, and insistently: from here on a carrying-on invocation clears, it never posts
      // again. Failing this save is the one way a digest could be posted twice.
      run.digest.state = 'posted';
      await saveInsistently(() => sweeps.saveRun(run));
      logger.info('Sweep digest', { sweepId: run.id, broke: broke.length, fixed: fixed.length });
    }
    await changes.clearPosted(pages.flatMap((page) => page.clear));
    moveOn(run, 'nudge');
  }

  /** The names of the run's digest, or of what it would name so far when not yet planned. */
  async function names(run: SweepRun): Promise<DigestNames> {
    if (run.digest) {
      const pages = run.digest.pages > 0 ? await sweeps.loadDigestPages(run.id) : [];
      return {
        broke: pages.flatMap((page) => page.broke.map((event) => event.email)),
        fixed: pages.flatMap((page) => page.fixed.map((event) => event.email)),
      };
    }
    const { broke, fixed } = netChanges((await changes.listPending()).flatMap((outbox) => outbox.events));
    return { broke: broke.map((event) => event.email), fixed: fixed.map((event) => event.email) };
  }

  return { post, names };
}
