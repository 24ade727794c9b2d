import { describe, expect, it } from 'vitest';
import type { CheckReport, UserResult } from '#lib/check/report.ts';
import {
  createProgress,
  emailsFromText,
  exitCodeOf,
  formatDuration,
  renderHistory,
  renderReport,
} from '../../scripts/cli/cli-output.ts';

const at = '2026-11-28T12:00:00.000Z';
const ok: UserResult = {
  email: 'ada@example.com',
  exists: true,
  valid: true,
  status: 'OK',
  checkedAt: at,
  gongRequestId: 'g1',
};
const broken: UserResult = {
  email: 'grace@example.com',
  exists: true,
  valid: false,
  status: 'INVALID',
  userFacingError: 'The Gong consent page is not enabled in your company. Contact your Gong Admin.',
  fixUrl: 'https://us-12345.app.gong.io/company/recording-consent/consent-page',
  checkedAt: at,
  gongRequestId: 'g1',
  previousValid: true,
  changed: true,
};
const unknown: UserResult = {
  ...ok,
  email: 'nobody@example.com',
  exists: false,
  valid: false,
  status: 'NOT_IN_GONG',
};

function report(results: UserResult[], failed = 0): CheckReport {
  const failures = Array.from({ length: failed }, (_, i) => ({
    email: `f${i}@example.com`,
    code: 'GONG_UNAVAILABLE' as const,
    message: 'Gong answered 500',
  }));
  const count = (status: string) => results.filter((r) => r.status === status).length;
  return {
    requestId: 'r1',
    checkedAt: at,
    results,
    failures,
    summary: {
      total: results.length + failed,
      valid: count('OK'),
      invalid: count('INVALID'),
      notFound: count('NOT_IN_GONG'),
      failed,
    },
  };
}

describe('exitCodeOf', () => {
  it('returns 0 when every user is valid', () => {
    expect(exitCodeOf(report([ok]))).toBe(0);
  });
  it('returns 1 when any user is invalid or unknown to Gong', () => {
    expect(exitCodeOf(report([ok, broken]))).toBe(1);
    expect(exitCodeOf(report([ok, unknown]))).toBe(1);
  });
  it('returns 2 when any email failed, whatever the others say', () => {
    expect(exitCodeOf(report([ok, broken], 1))).toBe(2);
  });
});

describe('emailsFromText', () => {
  it('returns entries split on lines, commas, semicolons and spaces, without comments or quotes', () => {
    const text =
      '# team\nada@example.com, "grace@example.com"\r\n\n<linus@example.com>; nobody@example.com  # gone\n';
    expect(emailsFromText(text)).toEqual([
      'ada@example.com',
      'grace@example.com',
      'linus@example.com',
      'nobody@example.com',
    ]);
  });
  it('returns the email column of a CSV with a header, honouring quoted commas', () => {
    const csv = 'name,E-mail,team\n"Lovelace, Ada",ada@example.com,eng\nGrace,grace@example.com,"a,b"\n';
    expect(emailsFromText(csv, 'csv')).toEqual(['ada@example.com', 'grace@example.com']);
  });
  it('returns every address-like cell of a CSV without an email header', () => {
    expect(emailsFromText('ada@example.com,x\ny,grace@example.com\n', 'csv')).toEqual([
      'ada@example.com',
      'grace@example.com',
    ]);
  });
});

describe('renderReport', () => {
  it('returns aligned rows with status, email, Gong message and fix link, then the summary', () => {
    const text = renderReport(report([ok, broken, unknown], 1), { color: false });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^STATUS\s+EMAIL\s+MESSAGE\s+FIX$/);
    expect(lines[2]).toContain('INVALID*');
    expect(lines[2]).toContain(broken.fixUrl);
    expect(lines[3]).toContain('Gong does not know this email');
    expect(lines[4]).toMatch(/^FAILED\s+f0@example.com\s+GONG_UNAVAILABLE: Gong answered 500$/);
    // Every email starts in the same column.
    const starts = ['ada@', 'grace@', 'nobody@', 'f0@'].map((email, i) => lines[i + 1]?.indexOf(email));
    expect(new Set(starts)).toEqual(new Set([lines[0]?.indexOf('EMAIL')]));
    expect(text).toContain('4 checked: 1 valid, 1 invalid, 1 not in Gong, 1 failed');
    expect(text).toContain('* changed since the last check');
    expect(text).not.toContain('\x1b[');
  });
  it('returns coloured statuses only when asked', () => {
    expect(renderReport(report([ok]), { color: true })).toContain('\x1b[32mOK');
  });
});

describe('renderHistory', () => {
  it('returns one row per stored check with when, status, source and message', () => {
    const item = { ...broken, source: 'api', requestId: 'r1' };
    const text = renderHistory(
      'grace@example.com',
      [item, { ...ok, email: 'grace@example.com', source: 'cli', requestId: 'r0' }],
      {
        color: false,
      },
    );
    expect(text).toContain('grace@example.com: 2 checks, newest first');
    expect(text).toMatch(/2026-11-28T12:00:00.000Z\s+INVALID\s+api\s+The Gong consent page/);
    expect(text).toMatch(/OK\s+cli/);
  });
});

describe('createProgress', () => {
  function capture(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } };
  }

  it('returns a silent progress for 100 emails or fewer', () => {
    const { writes, stream } = capture(true);
    const progress = createProgress({ emails: 100, stream });
    progress.onBatchDone(1, 1);
    progress.finish();
    expect(writes).toEqual([]);
  });

  it('rewrites one line with calls done, total and an ETA on a terminal', () => {
    const { writes, stream } = capture(true);
    let now = 0;
    const progress = createProgress({ emails: 1000, stream, now: () => now });
    now = 2_000;
    progress.onBatchDone(2, 10);
    expect(writes.at(-1)).toBe('\r\x1b[Kchecking 1000 emails: calls 2/10, ETA 8 s');
    progress.finish();
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('prints a line per tenth of the work when not on a terminal', () => {
    const { writes, stream } = capture(false);
    const progress = createProgress({ emails: 2000, stream, now: () => 0 });
    for (let done = 1; done <= 20; done++) progress.onBatchDone(done, 20);
    expect(writes).toHaveLength(11);
    expect(writes.at(-1)).toBe('checking 2000 emails: calls 20/20\n');
  });
});

describe('formatDuration', () => {
  it('returns seconds under a minute and minutes with seconds above', () => {
    expect(formatDuration(4_400)).toBe('4 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });
});
