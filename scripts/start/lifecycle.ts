import { isAlive } from '#local/stack.ts';

/** A startup failure whose message is all the user needs (no stack). */
export class StartError extends Error {
  override name = 'StartError';
}

/**
 * Everything `npm start` has started, and how it stops: the one place its state lives.
 * Steps stop in reverse order; the pids are for the last-resort kill in process.on('exit'),
 * where nothing asynchronous runs.
 */
export class Lifecycle {
  readonly abort = new AbortController();
  private readonly steps: { name: string; stop: () => Promise<void> }[] = [];
  private readonly pids: { pid: number; group: boolean }[] = [];
  private startup: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private exitCode = 0;
  private cleanup: (() => Promise<void>) | undefined;

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Registers something to stop, and (when it is a process) its pid for the last-resort kill. */
  started(name: string, stop: () => Promise<void>, process?: { pid: number; group: boolean }): void {
    this.steps.push({ name, stop });
    if (process) this.pids.push(process);
  }

  /** Runs once everything has stopped (e.g. removing the state file this run wrote). */
  onStopped(cleanup: () => Promise<void>): void {
    this.cleanup = cleanup;
  }

  run(startup: Promise<void>): Promise<void> {
    this.startup = startup;
    return startup;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  requestStop(code: number, reason?: string): void {
    if (reason) (code === 0 ? process.stdout : process.stderr).write(`${reason}\n`);
    if (!this.abort.signal.aborted) {
      this.exitCode = code;
      this.abort.abort();
    }
    this.stopping ??= this.stopAll();
  }

  /** SIGKILLs whatever is still alive; for process.on('exit'). */
  killLeftovers(): void {
    for (const { pid, group } of this.pids) {
      if (!isAlive(pid)) continue;
      try {
        process.kill(group ? -pid : pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }

  private async stopAll(): Promise<void> {
    // Let the step in progress finish (it sees the abort), so nothing it spawned is left behind.
    await this.startup.catch(() => undefined);
    for (const step of this.steps.reverse()) {
      try {
        await step.stop();
      } catch (error: unknown) {
        process.stderr.write(
          `could not stop ${step.name}: ${error instanceof Error ? error.message : error}\n`,
        );
      }
    }
    await this.cleanup?.().catch(() => undefined);
    process.exit(this.exitCode);
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
