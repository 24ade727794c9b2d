import type { IncomingMessage, ServerResponse } from 'node:http';

/** Canned answers of the data routes, in the shapes the README gives, for a team of 40. */
export function dailyDays(count: number): { date: string; ok: number; invalid: number; notInGong: number }[] {
  const last = Date.parse('2026-11-28T00:00:00.000Z');
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(last - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10);
    // A consent change breaks a third of the team for two weeks, then most get fixed.
    const broken = i > 50 && i < 64 ? 12 : i >= 64 ? 4 : 2;
    return { date, ok: 40 - broken - 1, invalid: broken, notInGong: 1 };
  });
}

const CALENDAR = {
  key: 'user:calendar',
  scope: 'user',
  message: 'Your calendar is not connected to Gong.',
  fixUrl: 'https://app.gong.example/settings/calendar',
  count: 1,
  emails: ['bo@example.com'],
  since: '2026-11-20T08:00:00.000Z',
};

const CONSENT = {
  key: 'company:consent',
  scope: 'company',
  message: 'The company’s recording consent page is not enabled.',
  fixUrl: 'https://app.gong.example/company/consent',
  count: 3,
  emails: ['ada@example.com', 'cy@example.com', 'di@example.com'],
  since: '2026-11-25T09:30:00.000Z',
};

export const PROBLEMS = [CALENDAR, CONSENT];

const invalid = (email: string, since: string, message: string, fixUrl: string) => ({
  email,
  status: 'INVALID',
  exists: true,
  valid: false,
  userFacingError: message,
  fixUrl,
  since,
  checkedAt: '2026-11-28T06:00:00.000Z',
});

const ADA_NOW = invalid('ada@example.com', '2026-11-25T09:30:00.000Z', CONSENT.message, CONSENT.fixUrl);

export const USERS: Record<string, { items: unknown[] }> = {
  INVALID: {
    items: [
      ADA_NOW,
      invalid('bo@example.com', '2026-11-20T08:00:00.000Z', CALENDAR.message, CALENDAR.fixUrl),
      invalid('cy@example.com', '2026-11-25T09:30:00.000Z', CONSENT.message, CONSENT.fixUrl),
      invalid('di@example.com', '2026-11-25T09:30:00.000Z', CONSENT.message, CONSENT.fixUrl),
    ],
  },
  OK: {
    items: [
      {
        email: 'eve@example.com',
        status: 'OK',
        exists: true,
        valid: true,
        since: '2026-10-01T00:00:00.000Z',
        checkedAt: '2026-11-28T06:00:00.000Z',
      },
    ],
  },
  NOT_IN_GONG: {
    items: [
      {
        email: 'new@example.com',
        status: 'NOT_IN_GONG',
        exists: false,
        valid: false,
        since: '2026-11-27T00:00:00.000Z',
        checkedAt: '2026-11-28T06:00:00.000Z',
      },
    ],
  },
};

/** Ada's history, newest first: OK, then broken for 2 days 18 hours, fixed, broken again since the 25th. */
export const ADA_HISTORY = {
  email: 'ada@example.com',
  items: [
    { ...ADA_NOW, checkedAt: '2026-11-28T06:00:00.000Z' },
    { ...ADA_NOW, checkedAt: '2026-11-25T09:30:00.000Z' },
    { email: 'ada@example.com', status: 'OK', checkedAt: '2026-11-12T00:00:00.000Z' },
    {
      email: 'ada@example.com',
      status: 'INVALID',
      userFacingError: 'Recording consent was withdrawn.',
      fixUrl: 'https://app.gong.example/me/consent',
      checkedAt: '2026-11-09T06:00:00.000Z',
    },
    { email: 'ada@example.com', status: 'OK', checkedAt: '2026-11-01T00:00:00.000Z' },
  ],
};

export const CSV =
  'email,status,since,checkedAt,userFacingError,fixUrl\r\n' +
  'ada@example.com,INVALID,2026-11-25T09:30:00.000Z,2026-11-28T06:00:00.000Z,Consent,https://x\r\n';

const TOKENS: Record<string, { admin: boolean; email: string }> = {
  'admin-token': { admin: true, email: 'admin@example.com' },
  'member-token': { admin: false, email: 'ada@example.com' },
};

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { error: { code, message }, requestId: 'canned' });
}

/**
 * Answers `/v1/*` like the api function would for the canned team, enforcing who may call:
 * `admin-token` everything, `member-token` only ada@example.com, anything else 401. Records what it saw.
 */
export function cannedDataRoutes(seen: { path: string; authorization: string | undefined }[]) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/v1/')) return false;
    seen.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    const caller = TOKENS[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
    if (!caller) {
      error(res, 401, 'UNAUTHORIZED', 'The token was refused');
      return true;
    }
    const userMatch = /^\/v1\/users\/([^/]+)(\/history)?$/.exec(url.pathname);
    if (userMatch) {
      const email = decodeURIComponent(userMatch[1] ?? '');
      if (!caller.admin && email !== caller.email) error(res, 403, 'FORBIDDEN', 'Only your own email');
      else if (email !== 'ada@example.com' && !userMatch[2]) error(res, 404, 'NOT_FOUND', 'Never checked');
      else if (userMatch[2]) send(res, 200, email === 'ada@example.com' ? ADA_HISTORY : { email, items: [] });
      else send(res, 200, ADA_HISTORY.items[0]);
      return true;
    }
    if (!caller.admin) {
      error(res, 403, 'FORBIDDEN', 'Admins only');
      return true;
    }
    if (url.pathname === '/v1/problems') send(res, 200, { problems: PROBLEMS });
    else if (url.pathname === '/v1/stats/daily')
      send(res, 200, { days: dailyDays(Number(url.searchParams.get('days'))) });
    else if (url.pathname === '/v1/users' && url.searchParams.get('format') === 'csv')
      send(res, 200, CSV, 'text/csv');
    else if (url.pathname === '/v1/users')
      send(res, 200, USERS[url.searchParams.get('status') ?? ''] ?? { items: [] });
    else error(res, 404, 'NOT_FOUND', 'No such route');
    return true;
  };
}
