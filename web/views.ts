import { drawTrend } from './chart.ts';
import { h } from './dom.ts';
import { formatDuration, isBroken, recordableShare, toSpells } from './timeline.ts';
import type {
  DailyCounts,
  ListedUser,
  Problem,
  Status,
  StoredResult,
  UserHistory,
  UserPage,
} from './types.ts';

/** Words and a symbol for each status, so no view depends on colour alone. */
export const STATUS_LABEL: Record<Status, { icon: string; text: string }> = {
  OK: { icon: '✓', text: 'OK' },
  INVALID: { icon: '✗', text: 'Invalid' },
  NOT_IN_GONG: { icon: '?', text: 'Not in Gong' },
};

export const STATUSES: readonly Status[] = ['INVALID', 'NOT_IN_GONG', 'OK'];

/** A status as symbol + word; the symbol is hidden from screen readers, which read the word. */
export function statusBadge(status: Status): HTMLElement {
  const label = STATUS_LABEL[status];
  return h(
    'span',
    { class: `status status-${status.toLowerCase().replaceAll('_', '-')}` },
    h('span', { 'aria-hidden': 'true', class: 'status-icon' }, label.icon),
    ' ',
    label.text,
  );
}

/** A date-time in the reader's locale, in a `<time>` carrying the exact instant. */
export function when(iso: string | undefined): HTMLElement | string {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return h(
    'time',
    { datetime: iso },
    date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }),
    ' UTC',
  );
}

function fixLink(url: string | undefined, label = 'Fix it'): HTMLElement | string {
  if (!url) return '';
  return h('a', { href: url, class: 'fix', target: '_blank', rel: 'noopener noreferrer' }, label);
}

function userButton(email: string, onUser: (email: string) => void): HTMLElement {
  return h(
    'button',
    { type: 'button', class: 'link', onclick: () => onUser(email), 'aria-label': `Show history of ${email}` },
    email,
  );
}

/** The counts now: the latest daily snapshot, with its date, and the share that can be recorded. */
export function renderCounts(latest: DailyCounts | undefined): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'counts-title', class: 'card' });
  section.append(h('h2', { id: 'counts-title' }, 'Now'));
  if (!latest) {
    section.append(h('p', {}, 'No sweep has counted the team yet.'));
    return section;
  }
  const share = recordableShare(latest);
  const total = latest.ok + latest.invalid + latest.notInGong;
  section.append(
    h(
      'dl',
      { class: 'counts' },
      h(
        'div',
        {},
        h('dt', {}, 'Can be recorded'),
        h('dd', { id: 'share' }, share === undefined ? '–' : `${share}%`),
      ),
      h('div', {}, h('dt', {}, statusBadge('OK')), h('dd', { id: 'count-ok' }, latest.ok)),
      h('div', {}, h('dt', {}, statusBadge('INVALID')), h('dd', { id: 'count-invalid' }, latest.invalid)),
      h(
        'div',
        {},
        h('dt', {}, statusBadge('NOT_IN_GONG')),
        h('dd', { id: 'count-not-in-gong' }, latest.notInGong),
      ),
      h('div', {}, h('dt', {}, 'Total'), h('dd', {}, total)),
    ),
    h(
      'p',
      { class: 'note' },
      'As counted by the sweep of ',
      h('time', { datetime: latest.date }, latest.date),
      ' (UTC).',
    ),
  );
  return section;
}

/** The trend of the last days: a chart, and the same numbers as a table for those who cannot see it. */
export function renderTrend(days: readonly DailyCounts[], width: number): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'trend-title', class: 'card' });
  section.append(
    h(
      'h2',
      { id: 'trend-title' },
      `Trend: ${days.length} ${days.length === 1 ? 'sweep day' : 'sweep days'} of the last 90`,
    ),
  );
  if (days.length === 0) {
    section.append(h('p', {}, 'No daily counts yet.'));
    return section;
  }
  const chart = h('figure', { class: 'chart', 'aria-describedby': 'trend-numbers' });
  section.append(chart);
  drawTrend(chart, days, width);
  const rows = [...days].reverse().map((day) => {
    const share = recordableShare(day);
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, day.date),
      h('td', {}, share === undefined ? '–' : `${share}%`),
      h('td', {}, day.ok),
      h('td', {}, day.invalid),
      h('td', {}, day.notInGong),
    );
  });
  section.append(
    h(
      'details',
      { id: 'trend-numbers' },
      h('summary', {}, 'The numbers'),
      h(
        'table',
        {},
        h('caption', {}, 'Daily counts, newest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Date', 'Recordable', 'OK', 'Invalid', 'Not in Gong'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
    ),
  );
  return section;
}

/** Problems grouped by cause, biggest first, each with its users and the admin's Fix link. */
export function renderProblems(problems: readonly Problem[], onUser: (email: string) => void): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'problems-title', class: 'card' });
  section.append(h('h2', { id: 'problems-title' }, 'Problems'));
  if (problems.length === 0) {
    section.append(h('p', {}, 'Nobody is broken. ', h('span', { 'aria-hidden': 'true' }, '✓')));
    return section;
  }
  const sorted = [...problems].sort((a, b) => b.count - a.count);
  const list = h('ol', { class: 'problems' });
  for (const problem of sorted) {
    const more = problem.count - problem.emails.length;
    list.append(
      h(
        'li',
        { class: 'problem' },
        h(
          'p',
          { class: 'problem-head' },
          h(
            'strong',
            { class: 'problem-count' },
            `${problem.count} ${problem.count === 1 ? 'user' : 'users'}`,
          ),
          ' · ',
          problem.scope === 'company' ? 'company-wide' : 'per user',
          ' · since ',
          when(problem.since),
        ),
        h('p', { class: 'problem-message' }, problem.message),
        fixLink(problem.fixUrl, problem.scope === 'company' ? 'Fix it for the company' : 'Fix it'),
        h(
          'details',
          {},
          h('summary', {}, `Who (${problem.count})`),
          h(
            'ul',
            { class: 'emails' },
            ...problem.emails.map((email) => h('li', {}, userButton(email, onUser))),
          ),
          more > 0 ? h('p', { class: 'note' }, `and ${more} more`) : null,
        ),
      ),
    );
  }
  section.append(list);
  return section;
}

/** The listing of one status, with the controls to switch status, page on and download it. */
export function renderUserList(
  status: Status,
  page: UserPage,
  handlers: {
    onStatus: (status: Status) => void;
    onUser: (email: string) => void;
    onMore?: () => void;
    onCsv: () => void;
  },
): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'users-title', class: 'card' });
  section.append(h('h2', { id: 'users-title' }, 'Users'));
  const select = h(
    'select',
    { id: 'status-filter', onchange: () => handlers.onStatus(select.value as Status) },
    ...STATUSES.map((s) => h('option', { value: s, selected: s === status }, STATUS_LABEL[s].text)),
  );
  section.append(
    h(
      'div',
      { class: 'toolbar' },
      h('label', { for: 'status-filter' }, 'Status '),
      select,
      h('button', { type: 'button', id: 'download-csv', onclick: handlers.onCsv }, 'Download CSV'),
    ),
  );
  const rows = page.items.map((user: ListedUser) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, userButton(user.email, handlers.onUser)),
      h('td', {}, statusBadge(user.status)),
      h('td', {}, when(user.since)),
      h('td', {}, when(user.checkedAt)),
      h('td', {}, user.userFacingError ?? '', ' ', fixLink(user.fixUrl)),
    ),
  );
  section.append(
    h(
      'table',
      { id: 'users' },
      h(
        'caption',
        {},
        `${STATUS_LABEL[status].text}: ${page.items.length}${page.nextCursor ? '+' : ''} users`,
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Email', 'Status', 'Since', 'Checked', 'What Gong says'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...(rows.length > 0 ? rows : [h('tr', {}, h('td', { colspan: 5 }, 'Nobody has this status.'))]),
      ),
    ),
  );
  if (page.nextCursor && handlers.onMore) {
    section.append(h('button', { type: 'button', onclick: handlers.onMore }, 'Show more'));
  }
  return section;
}

/** One user's current status and the spells of their history, with how long each lasted. */
export function renderTimeline(
  latest: StoredResult | undefined,
  history: UserHistory,
  now: Date,
  options: { title?: string; onClose?: () => void } = {},
): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'timeline-title', class: 'card', id: 'timeline' });
  section.append(h('h2', { id: 'timeline-title', tabindex: -1 }, options.title ?? history.email));
  if (options.onClose) {
    section.append(
      h('button', { type: 'button', class: 'close', onclick: options.onClose }, 'Close history'),
    );
  }
  if (!latest) {
    section.append(h('p', {}, `${history.email} was never checked.`));
    return section;
  }
  section.append(
    h(
      'p',
      { class: 'current' },
      'Now: ',
      statusBadge(latest.status),
      ' · checked ',
      when(latest.checkedAt),
      latest.userFacingError ? h('span', { class: 'message' }, ` — ${latest.userFacingError}`) : null,
      ' ',
      fixLink(latest.fixUrl),
    ),
  );
  const spells = toSpells(history.items, now, { truncated: history.nextCursor !== undefined });
  const rows = spells.map((spell) =>
    h(
      'tr',
      { class: isBroken(spell.status) ? 'broken' : 'ok' },
      h('th', { scope: 'row' }, statusBadge(spell.status)),
      h('td', {}, spell.startedEarlier ? 'before ' : '', when(spell.from)),
      h('td', {}, spell.until ? when(spell.until) : 'still'),
      h('td', {}, `${spell.startedEarlier ? 'at least ' : ''}${formatDuration(spell.durationMs)}`),
      h('td', {}, spell.checks),
      h('td', {}, spell.message ?? '', ' ', isBroken(spell.status) ? fixLink(spell.fixUrl) : ''),
    ),
  );
  section.append(
    h(
      'table',
      { class: 'spells' },
      h('caption', {}, `History of ${history.email}, newest first`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Status', 'From', 'Until', 'Lasted', 'Checks', 'What Gong said'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
  return section;
}

/** A message in place of a view: an error, a loading state, or the prompt to log in again. */
export function renderNotice(text: string, action?: { label: string; onClick: () => void }): HTMLElement {
  return h(
    'section',
    { class: 'card notice', role: 'status' },
    h('p', {}, text),
    action ? h('button', { type: 'button', class: 'primary', onclick: action.onClick }, action.label) : null,
  );
}
