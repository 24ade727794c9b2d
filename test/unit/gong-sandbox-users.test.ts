import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_USERS, type GongSandbox, startGongSandbox } from '#local/gong-sandbox.ts';

const BASIC = `Basic ${Buffer.from('sandbox-key:sandbox-secret').toString('base64')}`;

interface UsersPage {
  requestId: string;
  records: { totalRecords: number; currentPageSize: number; currentPageNumber: number; cursor?: string };
  users: { id: string; emailAddress: string; active: boolean; firstName: string; lastName: string }[];
}

let sandbox: GongSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

function listUsers(target: GongSandbox, cursor?: string, authorization = BASIC): Promise<Response> {
  const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`;
  return fetch(`${target.url}/v2/users${query}`, { headers: { authorization } });
}

describe('GET /v2/users on the Gong sandbox', () => {
  it('returns every known existing user across cursor pages in Gong shape', async () => {
    sandbox = await startGongSandbox({
      rps: 1000,
      usersPageSize: 3,
      users: [{ email: 'alan.turing@example.com', exists: true, valid: true, active: false }],
    });
    const pages: UsersPage[] = [];
    let cursor: string | undefined;
    do {
      const response = await listUsers(sandbox, cursor);
      expect(response.status).toBe(200);
      const page = (await response.json()) as UsersPage;
      pages.push(page);
      cursor = page.records.cursor;
    } while (cursor !== undefined);

    const listed = pages.flatMap((page) => page.users);
    const existing = EXAMPLE_USERS.filter((user) => user.exists).map((user) => user.email);
    expect(listed.map((user) => user.emailAddress)).toEqual([...existing, 'alan.turing@example.com']);
    expect(pages.map((page) => page.records.currentPageNumber)).toEqual([0, 1]);
    expect(pages[0]?.records).toMatchObject({ totalRecords: 5, currentPageSize: 3 });
    expect(listed.find((user) => user.emailAddress === 'alan.turing@example.com')).toMatchObject({
      active: false,
      firstName: 'Alan',
      lastName: 'Turing',
    });
    expect(new Set(listed.map((user) => user.id)).size).toBe(listed.length);
    expect(sandbox.usersStats.calls).toBe(2);
    expect(sandbox.stats.calls).toBe(0);
  });

  it('returns 401 without credentials and 400 for a cursor it never gave out', async () => {
    sandbox = await startGongSandbox({ rps: 1000 });

    const unauthorized = await listUsers(sandbox, undefined, 'Basic nope');
    const badCursor = await listUsers(sandbox, 'not-a-cursor');

    expect(unauthorized.status).toBe(401);
    expect(badCursor.status).toBe(400);
    expect(((await badCursor.json()) as { errors: string[] }).errors).toEqual(['Invalid cursor']);
  });

  it('returns 429 with Retry-After when the shared rate limit is spent', async () => {
    sandbox = await startGongSandbox({ rps: 1, burst: 1 });

    const first = await listUsers(sandbox);
    const second = await listUsers(sandbox);

    expect(first.status).toBe(200);
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('keeps `active` out of the integration-status answer', async () => {
    sandbox = await startGongSandbox({
      rps: 1000,
      users: [{ email: 'gone@example.com', exists: true, valid: true, active: false }],
    });

    const response = await fetch(`${sandbox.url}/v2/meetings/integration/status`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ emails: ['gone@example.com'] }),
    });

    expect(((await response.json()) as { users: unknown[] }).users).toEqual([
      { email: 'gone@example.com', exists: true, valid: true },
    ]);
  });
});
