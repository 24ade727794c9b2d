import { afterEach, describe, expect, it } from 'vitest';
import {
  EXAMPLE_USERS,
  type GongSandbox,
  type GongSandboxOptions,
  type SandboxUser,
  startGongSandbox,
} from '#local/gong-sandbox.ts';

const STATUS = '/v2/meetings/integration/status';
const BASIC = `Basic ${Buffer.from('sandbox-key:sandbox-secret').toString('base64')}`;

interface StatusAnswer {
  requestId: string;
  users: SandboxUser[];
}
interface ErrorAnswer {
  requestId: string;
  errors: string[];
}

let sandbox: GongSandbox | undefined;

async function start(options: GongSandboxOptions = {}): Promise<GongSandbox> {
  sandbox = await startGongSandbox({ rps: 1000, ...options });
  return sandbox;
}

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

function askStatus(
  target: GongSandbox,
  body: unknown,
  authorization: string | null = BASIC,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== null) headers.authorization = authorization;
  return fetch(`${target.url}${STATUS}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function byEmail(users: SandboxUser[]): Map<string, SandboxUser> {
  return new Map(users.map((user) => [user.email, user]));
}

describe('startGongSandbox', () => {
  describe('auth', () => {
    it('returns 401 in Gong error shape when no Authorization header is sent', async () => {
      const target = await start();

      const response = await askStatus(target, { emails: ['ada@example.com'] }, null);

      expect(response.status).toBe(401);
      const body = (await response.json()) as ErrorAnswer;
      expect(body.errors).toHaveLength(1);
      expect(body.requestId).toBe(response.headers.get('x-traceid'));
      expect(target.stats.byStatus[401]).toBe(1);
    });

    it('returns 401 when the Basic secret or the Bearer token is wrong', async () => {
      const target = await start();
      const wrongBasic = `Basic ${Buffer.from('sandbox-key:nope').toString('base64')}`;

      const basic = await askStatus(target, { emails: ['ada@example.com'] }, wrongBasic);
      const bearer = await askStatus(target, { emails: ['ada@example.com'] }, 'Bearer nope');

      expect(basic.status).toBe(401);
      expect(bearer.status).toBe(401);
    });

    it('returns 200 for configured Basic credentials and for the Bearer token', async () => {
      const target = await start({ accessKey: 'k', accessKeySecret: 's', accessToken: 't' });

      const basic = await askStatus(
        target,
        { emails: ['ada@example.com'] },
        `Basic ${Buffer.from('k:s').toString('base64')}`,
      );
      const bearer = await askStatus(target, { emails: ['ada@example.com'] }, 'Bearer t');
      const defaults = await askStatus(target, { emails: ['ada@example.com'] });

      expect(basic.status).toBe(200);
      expect(bearer.status).toBe(200);
      expect(defaults.status).toBe(401);
    });

    it('checks auth before validating the body', async () => {
      const target = await start();

      const response = await askStatus(target, 'not json', 'Bearer wrong');

      expect(response.status).toBe(401);
    });
  });

  describe('validation', () => {
    it.each([
      ['no emails', { emails: [] }, /at least 1/],
      ['101 emails', { emails: Array.from({ length: 101 }, (_, i) => `u${i}@example.com`) }, /at most 100/],
      ['a body that is not JSON', '{"emails": [', /not valid JSON/],
      ['no emails field', { users: ['ada@example.com'] }, /emails/],
      ['emails that are not strings', { emails: ['ada@example.com', 7] }, /array of strings/],
    ])('returns 400 naming the problem when sent %s', async (_case, body, message) => {
      const target = await start();

      const response = await askStatus(target, body);

      expect(response.status).toBe(400);
      const answer = (await response.json()) as ErrorAnswer;
      expect(answer.errors.join(' ')).toMatch(message);
      expect(target.stats.ok).toBe(0);
    });

    it('returns 200 for exactly 100 emails', async () => {
      const target = await start();
      const emails = Array.from({ length: 100 }, (_, i) => `u${i}@example.com`);

      const response = await askStatus(target, { emails });

      expect(response.status).toBe(200);
      expect(((await response.json()) as StatusAnswer).users).toHaveLength(100);
      expect(target.stats.emailsPerCall).toEqual([100]);
    });
  });

  describe('answers', () => {
    it('returns the example users with Gong-shaped fields, requestId and x-traceid', async () => {
      const target = await start();
      const emails = EXAMPLE_USERS.map((user) => user.email);

      const response = await askStatus(target, { emails });

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      const body = (await response.json()) as StatusAnswer;
      expect(body.requestId).toMatch(/^[0-9a-z]{19}$/);
      expect(response.headers.get('x-traceid')).toBe(body.requestId);
      const users = byEmail(body.users);
      expect(users.get('ada@example.com')).toEqual({ email: 'ada@example.com', exists: true, valid: true });
      expect(users.get('nobody@example.com')).toMatchObject({ exists: false, valid: false });
      expect(users.get('grace@example.com')).toEqual({
        email: 'grace@example.com',
        exists: true,
        valid: false,
        userFacingError: 'The Gong consent page is not enabled in your company. Contact your Gong Admin.',
        fixUrl: expect.stringMatching(/^https:\/\/us-\d+\.app\.gong\.io\//),
        helpUrl: expect.stringMatching(/^https:\/\/help\.gong\.io\//),
      });
      const linus = users.get('linus@example.com');
      expect(linus).toMatchObject({ exists: true, valid: false });
      expect(linus?.userFacingError).not.toBe(users.get('grace@example.com')?.userFacingError);
    });

    it('returns users by rule for addresses it does not know by name', async () => {
      const target = await start();

      const response = await askStatus(target, {
        emails: ['broken-17@example.com', 'unknown-3@example.com', 'rep-42@example.com', 'rep@elsewhere.org'],
      });

      const users = byEmail(((await response.json()) as StatusAnswer).users);
      expect(users.get('broken-17@example.com')).toMatchObject({
        exists: true,
        valid: false,
        userFacingError: expect.stringContaining('consent page'),
        fixUrl: expect.stringContaining('app.gong.io'),
      });
      expect(users.get('unknown-3@example.com')).toMatchObject({ exists: false, valid: false });
      expect(users.get('rep-42@example.com')).toEqual({
        email: 'rep-42@example.com',
        exists: true,
        valid: true,
      });
      expect(users.get('rep@elsewhere.org')).toMatchObject({ exists: false });
    });

    it('matches emails case-insensitively and answers with the email as asked', async () => {
      const target = await start();

      const response = await askStatus(target, { emails: ['Grace@Example.COM', 'ADA@example.com'] });

      const users = byEmail(((await response.json()) as StatusAnswer).users);
      expect([...users.keys()].sort()).toEqual(['ADA@example.com', 'Grace@Example.COM']);
      expect(users.get('Grace@Example.COM')).toMatchObject({ exists: true, valid: false });
      expect(users.get('ADA@example.com')).toMatchObject({ exists: true, valid: true });
    });

    it('returns every asked email, in an order that varies between calls', async () => {
      const target = await start();
      const emails = Array.from({ length: 50 }, (_, i) => `rep-${i}@example.com`);

      const orders: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const body = (await (await askStatus(target, { emails })).json()) as StatusAnswer;
        expect(body.users.map((user) => user.email).sort()).toEqual([...emails].sort());
        orders.push(body.users.map((user) => user.email).join());
      }

      expect(new Set(orders).size).toBeGreaterThan(1);
    });

    it('answers with the user set by setUser, overriding example and rule users', async () => {
      const target = await start({ users: [{ email: 'rep-1@example.com', exists: true, valid: false }] });

      target.setUser({ email: 'ADA@example.com', exists: true, valid: false, userFacingError: 'Broke.' });
      const users = byEmail(
        (
          (await (
            await askStatus(target, { emails: ['ada@example.com', 'rep-1@example.com'] })
          ).json()) as StatusAnswer
        ).users,
      );

      expect(users.get('ada@example.com')).toEqual({
        email: 'ada@example.com',
        exists: true,
        valid: false,
        userFacingError: 'Broke.',
      });
      expect(users.get('rep-1@example.com')).toMatchObject({ valid: false });
    });

    it('returns 404 in Gong error shape for an unknown path or method', async () => {
      const target = await start();

      const path = await fetch(`${target.url}/v2/calls`, { headers: { authorization: BASIC } });
      const method = await fetch(`${target.url}${STATUS}`, { headers: { authorization: BASIC } });

      expect(path.status).toBe(404);
      expect(method.status).toBe(404);
      expect(((await path.json()) as ErrorAnswer).errors).toHaveLength(1);
      expect(target.stats.calls).toBe(0);
    });
  });

  describe('rate limit', () => {
    it('returns 429 with Retry-After and Gong error shape once the burst is spent', async () => {
      const target = await start({ rps: 0.5, burst: 2 });

      const responses: Response[] = [];
      for (let i = 0; i < 3; i += 1) responses.push(await askStatus(target, { emails: ['ada@example.com'] }));

      expect(responses.map((response) => response.status)).toEqual([200, 200, 429]);
      const limited = responses[2] as Response;
      expect(limited.headers.get('retry-after')).toBe('2');
      expect(((await limited.json()) as ErrorAnswer).errors).toEqual(['API request limit exceeded.']);
      expect(target.stats).toMatchObject({ calls: 3, ok: 2, rateLimited: 1, byStatus: { 200: 2, 429: 1 } });
    });

    it('returns 200 again once the bucket has refilled', async () => {
      const target = await start({ rps: 20, burst: 1 });

      const first = await askStatus(target, { emails: ['ada@example.com'] });
      const second = await askStatus(target, { emails: ['ada@example.com'] });
      await new Promise((done) => setTimeout(done, 80));
      const third = await askStatus(target, { emails: ['ada@example.com'] });

      expect([first.status, second.status, third.status]).toEqual([200, 429, 200]);
      expect(second.headers.get('retry-after')).toBe('1');
    });

    it('returns 429 on the 4th call in a burst when rps and burst are left at their default of 3', async () => {
      sandbox = await startGongSandbox();
      const target = sandbox;

      const statuses = await Promise.all(
        Array.from(
          { length: 4 },
          async () => (await askStatus(target, { emails: ['ada@example.com'] })).status,
        ),
      );

      expect(statuses.sort()).toEqual([200, 200, 200, 429]);
    });
  });

  describe('faults', () => {
    it('returns the injected status with errors and Retry-After, for the given number of calls', async () => {
      const target = await start();
      target.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 7 }, 2);

      const first = await askStatus(target, { emails: ['ada@example.com'] });
      const second = await askStatus(target, { emails: ['ada@example.com'] });
      const third = await askStatus(target, { emails: ['ada@example.com'] });

      expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
      expect(first.headers.get('retry-after')).toBe('7');
      expect(((await first.json()) as ErrorAnswer).errors).toEqual(['API request limit exceeded.']);
    });

    it('returns a 500 with the given errors', async () => {
      const target = await start();
      target.injectFault({ kind: 'status', status: 500, errors: ['boom'] });

      const response = await askStatus(target, { emails: ['ada@example.com'] });

      expect(response.status).toBe(500);
      const body = (await response.json()) as ErrorAnswer;
      expect(body.errors).toEqual(['boom']);
      expect(body.requestId).toBe(response.headers.get('x-traceid'));
    });

    it('applies faults after auth', async () => {
      const target = await start();
      target.injectFault({ kind: 'status', status: 503 });

      const unauthorized = await askStatus(target, { emails: ['ada@example.com'] }, 'Bearer wrong');
      const faulted = await askStatus(target, { emails: ['ada@example.com'] });

      expect(unauthorized.status).toBe(401);
      expect(faulted.status).toBe(503);
    });

    it('returns 200 with a body that is not the documented shape for garbage', async () => {
      const target = await start();
      target.injectFault({ kind: 'garbage' });
      target.injectFault({ kind: 'garbage', body: '<html>oops' });

      const shaped = await askStatus(target, { emails: ['ada@example.com'] });
      const raw = await askStatus(target, { emails: ['ada@example.com'] });

      expect(shaped.status).toBe(200);
      expect(((await shaped.json()) as { users: unknown }).users).toBe('nope');
      expect(raw.status).toBe(200);
      expect(await raw.text()).toBe('<html>oops');
    });

    it('leaves out the first asked email for omit, or the named ones', async () => {
      const target = await start();
      target.injectFault({ kind: 'omit' });
      target.injectFault({ kind: 'omit', emails: ['GRACE@example.com'] });
      const emails = ['ada@example.com', 'grace@example.com', 'linus@example.com'];

      const first = (await (await askStatus(target, { emails })).json()) as StatusAnswer;
      const second = (await (await askStatus(target, { emails })).json()) as StatusAnswer;

      expect(first.users.map((user) => user.email).sort()).toEqual([
        'grace@example.com',
        'linus@example.com',
      ]);
      expect(second.users.map((user) => user.email).sort()).toEqual(['ada@example.com', 'linus@example.com']);
    });

    it('answers correctly but only after the delay for slow, tracking concurrency', async () => {
      const target = await start();
      target.injectFault({ kind: 'slow', ms: 150 }, 3);

      const startedAt = performance.now();
      const responses = await Promise.all(
        Array.from({ length: 3 }, () => askStatus(target, { emails: ['ada@example.com'] })),
      );
      const elapsed = performance.now() - startedAt;

      expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
      expect(elapsed).toBeGreaterThanOrEqual(140);
      expect(target.stats.maxConcurrent).toBe(3);
    });

    it('adds latencyMs to every answer', async () => {
      const target = await start({ latencyMs: 120 });

      const startedAt = performance.now();
      const response = await askStatus(target, { emails: ['ada@example.com'] });

      expect(response.status).toBe(200);
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(110);
    });

    it('never answers for hang, until close() ends the request', async () => {
      const target = await start();
      target.injectFault({ kind: 'hang' });

      const pending = askStatus(target, { emails: ['ada@example.com'] }).then(
        () => 'answered',
        () => 'failed',
      );
      const early = await Promise.race([
        pending,
        new Promise((done) => setTimeout(() => done('still waiting'), 200)),
      ]);
      await target.close();

      expect(early).toBe('still waiting');
      expect(await pending).toBe('failed');
    });

    it('makes the client see a network error for reset', async () => {
      const target = await start();
      target.injectFault({ kind: 'reset' });

      const error = await askStatus(target, { emails: ['ada@example.com'] }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      const next = await askStatus(target, { emails: ['ada@example.com'] });

      expect(error).toBeInstanceOf(TypeError);
      expect(next.status).toBe(200);
    });

    it('rejects a times that is not a positive integer', async () => {
      const target = await start();

      expect(() => target.injectFault({ kind: 'hang' }, 0)).toThrow(RangeError);
    });
  });

  describe('stats', () => {
    it('counts calls, answers and emails per call, and resets in place', async () => {
      const target = await start();
      const { stats } = target;

      await askStatus(target, { emails: ['ada@example.com', 'grace@example.com'] });
      await askStatus(target, { emails: [] });
      expect(stats).toMatchObject({ calls: 2, ok: 1, byStatus: { 200: 1, 400: 1 }, emailsPerCall: [2] });
      // Stamped on arrival, in order, with what each call was answered.
      expect(stats.arrivals.map((arrival) => arrival.status)).toEqual([200, 400]);
      const [first, second] = stats.arrivals;
      expect(second?.at ?? 0).toBeGreaterThanOrEqual(first?.at ?? Number.POSITIVE_INFINITY);
      expect(Math.abs((first?.at ?? 0) - Date.now())).toBeLessThan(10_000);

      target.resetStats();

      expect(stats).toEqual({
        arrivals: [],
        calls: 0,
        ok: 0,
        rateLimited: 0,
        byStatus: {},
        emailsPerCall: [],
        maxConcurrent: 0,
      });
    });
  });

  describe('admin endpoints', () => {
    it('serves stats without auth and without counting as a call', async () => {
      const target = await start();
      await askStatus(target, { emails: ['ada@example.com'] });

      const response = await fetch(`${target.url}/_sandbox/stats`);

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ calls: 1, ok: 1, emailsPerCall: [1] });
      expect(target.stats.calls).toBe(1);
    });

    it('flips a user through POST /_sandbox/users', async () => {
      const target = await start();

      const set = await fetch(`${target.url}/_sandbox/users`, {
        method: 'POST',
        body: JSON.stringify({ email: 'grace@example.com', exists: true, valid: true }),
      });
      const bad = await fetch(`${target.url}/_sandbox/users`, { method: 'POST', body: '{"email":1}' });
      const body = (await (
        await askStatus(target, { emails: ['grace@example.com'] })
      ).json()) as StatusAnswer;

      expect(set.status).toBe(200);
      expect(bad.status).toBe(400);
      expect(body.users).toEqual([{ email: 'grace@example.com', exists: true, valid: true }]);
    });

    it('queues faults through POST /_sandbox/faults', async () => {
      const target = await start();

      const queued = await fetch(`${target.url}/_sandbox/faults`, {
        method: 'POST',
        body: JSON.stringify({ fault: { kind: 'status', status: 500 }, times: 2 }),
      });
      const bad = await fetch(`${target.url}/_sandbox/faults`, {
        method: 'POST',
        body: JSON.stringify({ fault: { kind: 'explode' } }),
      });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        statuses.push((await askStatus(target, { emails: ['ada@example.com'] })).status);
      }

      expect(queued.status).toBe(200);
      expect(bad.status).toBe(400);
      expect(statuses).toEqual([500, 500, 200]);
    });

    it('resets stats through POST /_sandbox/reset-stats', async () => {
      const target = await start();
      await askStatus(target, { emails: ['ada@example.com'] });

      const response = await fetch(`${target.url}/_sandbox/reset-stats`, { method: 'POST' });

      expect(response.status).toBe(200);
      expect(target.stats.calls).toBe(0);
      expect(target.stats.emailsPerCall).toEqual([]);
    });
  });
});
