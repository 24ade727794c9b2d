import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { HistoryStore, LatestResult } from '#lib/history/history-store.ts';
import { createTeamApi, csvField, MAX_RESPONSE_BYTES } from '#lib/http/team-api.ts';
import { CALENDAR_PROBLEM } from '#local/gong-sandbox/users.ts';

/** A status index of `count` synthetic INVALID users, made page by page as read: nothing held. */
function syntheticStore(count: number): Pick<HistoryStore, 'listByStatus'> {
  const user = (i: number): LatestResult => {
    const at = new Date(Date.UTC(2026, 0, 1) + i * 37_000).toISOString();
    return {
      email: `rep.${i.toString(36)}.${(i * 7919) % 100_003}@sales.example-company.com`,
      exists: true,
      valid: false,
      status: 'INVALID',
      ...CALENDAR_PROBLEM,
      checkedAt: at,
      since: at,
      gongRequestId: `gong-${i}`,
      source: 'sweep',
      requestId: `req-${i}`,
    };
  };
  return {
    async listByStatus(_status, { limit, cursor }) {
      const from = cursor ? Number(cursor) : 0;
      const to = Math.min(count, from + limit);
      const items = Array.from({ length: to - from }, (_, k) => user(from + k));
      return to < count ? { items, nextCursor: String(to) } : { items };
    },
  };
}

describe('csvField', () => {
  it('quotes fields holding a quote, comma, CR or LF, doubling quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(undefined)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvField('only\nLF')).toBe('"only\nLF"');
  });

  it('never lets a spreadsheet read a field as a formula: a leading = + - @ tab or CR gets an apostrophe', () => {
    // An email is the caller's to choose (a CRM webhook, a Slack mention): "=HYPERLINK(…)"@x.com is valid.
    expect(csvField('=HYPERLINK("https://evil.example")@x.com')).toBe(
      '"\'=HYPERLINK(""https://evil.example"")@x.com"',
    );
    expect(csvField('+1-555@x.com')).toBe("'+1-555@x.com");
    expect(csvField('-2+3@x.com')).toBe("'-2+3@x.com");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tcmd')).toBe("'\tcmd");
    expect(csvField('a=b@x.com')).toBe('a=b@x.com');
    expect(csvField('2026-12-01T00:00:00.000Z')).toBe('2026-12-01T00:00:00.000Z');
  });
});

describe('team CSV of 100,000 users', () => {
  it('fits under API Gateway’s 6 MB compressed, with every user and bounded memory', async () => {
    const team = createTeamApi({
      store: syntheticStore(100_000),
      listDailyStats: async () => [],
      now: () => new Date('2026-12-01T00:00:00Z'),
    });
    const heapBefore = process.memoryUsage().heapUsed;

    const answer = await team.csv({ status: 'INVALID' }, 'gzip, deflate, br');

    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(answer.isBase64Encoded).toBe(true);
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(answer.body.length).toBeLessThan(MAX_RESPONSE_BYTES);
    const text = gunzipSync(Buffer.from(answer.body, 'base64')).toString('utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('email,status,since,checkedAt,userFacingError,fixUrl');
    expect(lines).toHaveLength(100_002); // header, 100,000 rows, and the empty string after the last CRLF
    expect(new Set(lines.slice(1, -1).map((line) => line.split(',')[0])).size).toBe(100_000);
    // The plain text is about 4 times over the limit; what stays is the compressed body and one page.
    expect(Buffer.byteLength(text)).toBeGreaterThan(4 * MAX_RESPONSE_BYTES);
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it('refuses with 406 naming Accept-Encoding when the plain text would pass 6 MB', async () => {
    const team = createTeamApi({ store: syntheticStore(100_000), listDailyStats: async () => [] });

    await expect(team.csv({ status: 'INVALID' }, undefined)).rejects.toMatchObject({
      statusCode: 406,
      message: expect.stringContaining('Accept-Encoding: gzip'),
    });
  }, 60_000);
});
