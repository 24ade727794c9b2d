import { type Api, ApiError } from './api.ts';
import { h } from './dom.ts';
import type { Status, UserPage } from './types.ts';
import {
  renderCounts,
  renderNotice,
  renderProblems,
  renderTimeline,
  renderTrend,
  renderUserList,
} from './views.ts';

/** Days of daily counts the trend shows. */
const TREND_DAYS = 90;
/** History items a timeline reads: the API's largest page. */
const HISTORY_LIMIT = 100;

export interface DashboardHooks {
  /** The token was refused or is missing: ask the person to log in again. */
  onUnauthorized: () => void;
  now?: () => Date;
  /** From the token's claims: a member goes straight to their own view, without a refused call. */
  role?: 'admin' | 'member' | undefined;
}

/**
 * Shows the admin view when `GET /v1/problems` answers, the member's own status when it answers 403
 * (or at once when the token's claims say member).
 * `email` is the logged-in person's, from their id token.
 */
export async function showDashboard(
  main: HTMLElement,
  api: Api,
  email: string | undefined,
  hooks: DashboardHooks,
): Promise<void> {
  const now = hooks.now ?? (() => new Date());
  const fail = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401) {
      hooks.onUnauthorized();
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    main.replaceChildren(renderNotice(`Could not load the data: ${message}`));
  };
  main.replaceChildren(renderNotice('Loading…'));
  try {
    if (hooks.role === 'member') {
      await showMember(main, api, email, now);
      return;
    }
    let problems: Awaited<ReturnType<Api['problems']>>;
    try {
      problems = await api.problems();
    } catch (error: unknown) {
      if (error instanceof ApiError && error.status === 403) {
        await showMember(main, api, email, now);
        return;
      }
      throw error;
    }
    await showAdmin(main, api, problems, now, fail);
  } catch (error: unknown) {
    fail(error);
  }
}

async function showMember(
  main: HTMLElement,
  api: Api,
  email: string | undefined,
  now: () => Date,
): Promise<void> {
  if (!email) {
    main.replaceChildren(renderNotice('Your login carries no email address, so there is nothing to show.'));
    return;
  }
  const [latest, history] = await Promise.all([api.latest(email), api.history(email, HISTORY_LIMIT)]);
  main.replaceChildren(renderTimeline(latest, history, now(), { title: `Your status (${email})` }));
}

async function showAdmin(
  main: HTMLElement,
  api: Api,
  problems: Awaited<ReturnType<Api['problems']>>,
  now: () => Date,
  fail: (error: unknown) => void,
): Promise<void> {
  let status: Status = 'INVALID';
  const [days, firstPage] = await Promise.all([api.dailyStats(TREND_DAYS), api.users(status)]);
  const timelineSlot = h('div', { id: 'timeline-slot' });
  let usersSection: HTMLElement;

  const openUser = (email: string) => {
    timelineSlot.replaceChildren(renderNotice(`Loading the history of ${email}…`));
    Promise.all([api.latest(email), api.history(email, HISTORY_LIMIT)])
      .then(([latest, history]) => {
        const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
        const view = renderTimeline(latest, history, now(), {
          onClose: () => {
            timelineSlot.replaceChildren();
            opener?.focus();
          },
        });
        timelineSlot.replaceChildren(view);
        // Keyboard and screen-reader users land on what they asked for.
        view.querySelector<HTMLElement>('h2')?.focus();
      })
      .catch(fail);
  };

  const showUsers = (page: UserPage) => {
    const next = renderUserList(status, page, {
      onStatus: (chosen) => {
        status = chosen;
        api
          .users(status)
          .then((fresh) => {
            showUsers(fresh);
            document.getElementById('status-filter')?.focus();
          })
          .catch(fail);
      },
      onUser: openUser,
      ...(page.nextCursor === undefined
        ? {}
        : {
            onMore: () => {
              api
                .users(status, page.nextCursor)
                .then((more) => {
                  showUsers({
                    items: [...page.items, ...more.items],
                    ...(more.nextCursor === undefined ? {} : { nextCursor: more.nextCursor }),
                  });
                })
                .catch(fail);
            },
          }),
      onCsv: () => {
        api
          .usersCsv(status)
          .then((blob) => downloadBlob(blob, `gong-status-${status}-${now().toISOString().slice(0, 10)}.csv`))
          .catch(fail);
      },
    });
    usersSection.replaceWith(next);
    usersSection = next;
  };

  usersSection = h('section');
  const width = Math.max(320, Math.min(960, main.clientWidth - 48));
  main.replaceChildren(
    renderCounts(days.at(-1)),
    renderTrend(days, width),
    renderProblems(problems, openUser),
    usersSection,
    timelineSlot,
  );
  showUsers(firstPage);
}

/** Saves a blob under a file name, the way a download link would. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the blob once the click is handled; freeing it at once can cancel the download.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
