import type { SweepRun } from '#lib/sweep/sweep-store.ts';

/** Starts the next phase of a run at its beginning. */
export function moveOn(run: SweepRun, phase: SweepRun['phase']): void {
  run.phase = phase;
  run.step = 0;
  run.retries = 0;
  delete run.cursor;
}

/** Moves the position within a phase forward to `step` and `cursor`. */
export function moveTo(run: SweepRun, step: number, cursor: string | undefined): void {
  run.step = step;
  run.retries = 0;
  if (cursor === undefined) delete run.cursor;
  else run.cursor = cursor;
}
