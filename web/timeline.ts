import type { Status, StoredResult } from './types.ts';

/** A run of consecutive checks with one status: how long a user stayed OK or broken. */
export interface Spell {
  status: Status;
  /** First check that saw this status. */
  from: string;
  /** First check that saw the next status; absent while the spell goes on. */
  until?: string;
  /** Latest check in the spell. */
  lastCheckedAt: string;
  /** From `from` to `until`, or to now while the spell goes on. */
  durationMs: number;
  checks: number;
  /** The history window was cut before this spell's start, so it began earlier than `from`. */
  startedEarlier: boolean;
  /** Gong's message and fix link from the latest check of the spell. */
  message?: string;
  fixUrl?: string;
}

/** Whether a status means Gong cannot record the user's meetings. */
export function isBroken(status: Status): boolean {
  return status !== 'OK';
}

/**
 * Groups a history (newest first, as the API answers it) into spells, newest first.
 * `truncated` says the history has more items than were fetched, so the oldest spell may be longer.
 */
export function toSpells(
  items: readonly StoredResult[],
  now: Date,
  options: { truncated?: boolean } = {},
): Spell[] {
  const oldestFirst = [...items].sort((a, b) => Date.parse(a.checkedAt) - Date.parse(b.checkedAt));
  const spells: Spell[] = [];
  for (const item of oldestFirst) {
    const current = spells.at(-1);
    if (current && current.status === item.status) {
      current.lastCheckedAt = item.checkedAt;
      current.checks += 1;
      setMessage(current, item);
      continue;
    }
    if (current) current.until = item.checkedAt;
    const spell: Spell = {
      status: item.status,
      from: item.checkedAt,
      lastCheckedAt: item.checkedAt,
      durationMs: 0,
      checks: 1,
      startedEarlier: spells.length === 0 && options.truncated === true,
    };
    setMessage(spell, item);
    spells.push(spell);
  }
  for (const spell of spells) {
    const end = spell.until === undefined ? now.getTime() : Date.parse(spell.until);
    spell.durationMs = Math.max(0, end - Date.parse(spell.from));
  }
  return spells.reverse();
}

function setMessage(spell: Spell, item: StoredResult): void {
  if (item.userFacingError === undefined) delete spell.message;
  else spell.message = item.userFacingError;
  if (item.fixUrl === undefined) delete spell.fixUrl;
  else spell.fixUrl = item.fixUrl;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration in words a person reads at a glance: "3 days 4 hours", "2 hours 5 minutes", "under a minute". */
export function formatDuration(ms: number): string {
  if (ms < MINUTE) return 'under a minute';
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  // Two units are enough: nobody needs the minutes of a week-long outage.
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day');
  if (hours > 0)
    return minutes > 0 ? `${plural(hours, 'hour')} ${plural(minutes, 'minute')}` : plural(hours, 'hour');
  return plural(minutes, 'minute');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Share of users that can be recorded, as a whole percentage, or undefined when nobody was counted. */
export function recordableShare(counts: {
  ok: number;
  invalid: number;
  notInGong: number;
}): number | undefined {
  const total = counts.ok + counts.invalid + counts.notInGong;
  if (total === 0) return undefined;
  return Math.round((counts.ok / total) * 1000) / 10;
}
