import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport } from '#lib/check/report.ts';
import { METRIC } from '#lib/observability/metrics.ts';
import { linesPrinted } from '../support/printed.ts';
import { loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type CheckStatus = (event: unknown) => Promise<CheckReport>;

/** One Embedded Metric Format line, with the fields the assertions read. */
interface EmfLine {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** Runs `act`, returning what it wrote to stdout as EMF lines (the only JSON lines with `_aws`). */
async function emfPrinted(act: () => Promise<unknown>): Promise<EmfLine[]> {
  const { lines } = await linesPrinted(process.stdout, act);
  return lines
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

const withMetric = (lines: EmfLine[], name: string) => lines.filter((line) => line[name] !== undefined);
const dimensionsOf = (line: EmfLine | undefined) => line?._aws.CloudWatchMetrics[0]?.Dimensions;

describe('door metrics (built checkStatus bundle, loopback Gong and DynamoDB)', () => {
  let stack: TestStack;
  let checkStatus: CheckStatus;
  const saved = { ...process.env };

  beforeAll(async () => {
    stack = await startTestStack({ gong: { rps: 100 } });
  });
  afterAll(async () => stack?.stop());
  beforeEach(() => {
    // As in AWS: no dev mode, metrics on, and an on-demand container (Powertools counts a ColdStart only then).
    delete process.env.POWERTOOLS_DEV;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    checkStatus = loadHandler('checkStatus', {
      ...stack.env,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    }) as CheckStatus;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('prints UsersChecked with the answered count and CheckFailures by code for the email Gong left out', async () => {
    const unanswered = `left-out-${Date.now()}@example.com`;
    stack.gong.injectFault({ kind: 'omit', emails: [unanswered] });

    let report: CheckReport | undefined;
    const lines = await emfPrinted(async () => {
      report = await checkStatus({ emails: ['ada@example.com', 'grace@example.com', unanswered] });
    });

    expect(report?.failures.map((f) => f.code)).toEqual(['GONG_INCOMPLETE_ANSWER']);
    for (const line of lines) {
      expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe('GongStatus');
      expect(line.service).toBe('gong-status');
    }
    const checked = withMetric(lines, METRIC.usersChecked);
    expect(checked).toHaveLength(1);
    expect(checked[0]).toMatchObject({ UsersChecked: 2, door: 'checkStatus' });
    expect(dimensionsOf(checked[0])).toEqual([['service', 'door'], ['service']]);
    const failures = withMetric(lines, METRIC.checkFailures);
    expect(failures.map((line) => [dimensionsOf(line), line.code, line.CheckFailures])).toEqual([
      [[['service', 'code']], 'GONG_INCOMPLETE_ANSWER', 1],
      [[['service', 'code', 'door']], 'GONG_INCOMPLETE_ANSWER', 1],
    ]);
    // No dimension, and no value, ever names a person.
    expect(JSON.stringify(lines)).not.toContain('example.com');
  });

  it('prints GongCalls per call, GongRateLimited for a 429, and the share of the day budget used', async () => {
    // A fresh table day counter: this container reserves its first block of calls from zero.
    checkStatus = loadHandler('checkStatus', {
      ...stack.env,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      GONG_DAILY_BUDGET: '4000',
    }) as CheckStatus;
    stack.gong.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 1 });

    let report: CheckReport | undefined;
    const lines = await emfPrinted(async () => {
      report = await checkStatus({ emails: ['ada@example.com'] });
    });

    expect(report?.results.map((r) => r.status)).toEqual(['OK']);
    // Values of one metric within a flush arrive as an array (Powertools groups them per line).
    const values = (name: string) =>
      withMetric(lines, name).flatMap((line) => [line[name]].flat().map(Number));
    const sum = (name: string) => values(name).reduce((total, value) => total + value, 0);
    expect(sum(METRIC.gongCalls)).toBe(2);
    expect(sum(METRIC.gongRateLimited)).toBe(1);
    // Each reservation is a share of the 4000-call day (1 call, then 2), in percent.
    const budget = values(METRIC.gongBudgetUsed);
    expect(budget.length).toBeGreaterThan(0);
    for (const percent of budget) {
      expect(percent).toBeGreaterThan(0);
      expect(percent).toBeLessThan(1);
    }
  });

  it('prints ColdStart once per container, on its first invocation only', async () => {
    const first = await emfPrinted(() => checkStatus({ emails: ['ada@example.com'] }));
    const second = await emfPrinted(() => checkStatus({ emails: ['ada@example.com'] }));

    const coldStarts = withMetric([...first, ...second], 'ColdStart');
    expect(coldStarts).toHaveLength(1);
    expect(withMetric(first, 'ColdStart')).toHaveLength(1);
    expect(coldStarts[0]).toMatchObject({ ColdStart: 1, function_name: 'gong-status-test-checkStatus' });
    expect(withMetric(second, METRIC.usersChecked).map((line) => line.UsersChecked)).toEqual([1]);
  });

  it('prints only the ColdStart line when the check refuses its input', async () => {
    const lines = await emfPrinted(() => checkStatus({ emails: ['not-an-email'] }).catch(() => undefined));

    expect(lines.flatMap((line) => line._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name))).toEqual([
      'ColdStart',
    ]);
  });

  it('prints nothing when POWERTOOLS_METRICS_DISABLED is true', async () => {
    checkStatus = loadHandler('checkStatus', {
      ...stack.env,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      POWERTOOLS_METRICS_DISABLED: 'true',
    }) as CheckStatus;

    const lines = await emfPrinted(() => checkStatus({ emails: ['ada@example.com'] }));

    expect(lines).toEqual([]);
  });
});
