import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCheckMetrics, createMetrics, METRIC } from '#lib/observability/metrics.ts';
import { linesPrinted } from '../support/printed.ts';

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

const warnings: unknown[] = [];
const logger = {
  debug: () => {},
  info: () => {},
  warn: (...parts: unknown[]) => warnings.push(parts),
  error: (...parts: unknown[]) => warnings.push(parts),
};

/** What Powertools wrote to stdout while `act` ran, as the EMF objects CloudWatch would read. */
function emfPrinted(act: () => void): EmfLine[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    act();
  } finally {
    spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EmfLine);
}

const definition = (line: EmfLine | undefined) => line?._aws.CloudWatchMetrics[0];
const names = (line: EmfLine | undefined) => definition(line)?.Metrics.map((metric) => metric.Name);

describe('createCheckMetrics', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    // Powertools prints nothing in dev mode unless told otherwise; the functions run without either.
    delete process.env.POWERTOOLS_DEV;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    warnings.length = 0;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('prints one EMF line in the GongStatus namespace with every metric and the service dimension', () => {
    const metrics = createMetrics({ logger });
    const record = createCheckMetrics(metrics);

    const lines = emfPrinted(() => {
      record.usersChecked(42);
      record.gongCall();
      record.gongCall();
      record.gongRateLimited();
      record.gongBudgetUsed(81.5);
      record.usersBroken(7);
      record.brokenShare(16.7);
      record.brokenShareIncrease(12.1);
      record.changesPosted(3);
      metrics.publishStoredMetrics();
    });

    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(definition(line)?.Namespace).toBe('GongStatus');
    expect(definition(line)?.Dimensions).toEqual([['service']]);
    expect(names(line)).toEqual([
      'UsersChecked',
      'GongCalls',
      'GongRateLimited',
      'GongBudgetUsed',
      'UsersBroken',
      'BrokenShare',
      'BrokenShareIncrease',
      'ChangesPosted',
    ]);
    expect(line).toMatchObject({
      service: 'gong-status',
      UsersChecked: 42,
      GongCalls: [1, 1],
      GongRateLimited: 1,
      GongBudgetUsed: 81.5,
      UsersBroken: 7,
      BrokenShare: 16.7,
      BrokenShareIncrease: 12.1,
      ChangesPosted: 3,
    });
    const units = Object.fromEntries(definition(line)?.Metrics.map((m) => [m.Name, m.Unit]) ?? []);
    expect(units).toMatchObject({ UsersChecked: 'Count', GongBudgetUsed: 'Percent', BrokenShare: 'Percent' });
  });

  it('prints CheckFailures on its own line per code with a code dimension, counting a report once per code', () => {
    const record = createCheckMetrics(createMetrics({ logger }));

    const lines = emfPrinted(() =>
      record.checkFailures([
        { code: 'GONG_TIMEOUT' },
        { code: 'GONG_RATE_LIMITED' },
        { code: 'GONG_TIMEOUT' },
      ]),
    );

    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(definition(line)?.Namespace).toBe('GongStatus');
      expect(definition(line)?.Dimensions).toEqual([['service', 'code']]);
      expect(names(line)).toEqual([METRIC.checkFailures]);
    }
    expect(lines.map((line) => [line.code, line.CheckFailures])).toEqual([
      ['GONG_TIMEOUT', 2],
      ['GONG_RATE_LIMITED', 1],
    ]);
  });

  it('never puts an email into a dimension when a caller passes one as a code', () => {
    const record = createCheckMetrics(createMetrics({ logger }));

    const [line] = emfPrinted(() => record.checkFailure('jane.doe@example.com'));

    expect(line?.code).toBe('OTHER');
    expect(JSON.stringify(line)).not.toContain('example.com');
  });

  it('publishes service-wide and per-door series when a door is given, after every flush', () => {
    const metrics = createMetrics({ logger });
    const record = createCheckMetrics(metrics, { door: 'crmWebhook' });

    const lines = emfPrinted(() => {
      record.usersChecked(1);
      metrics.publishStoredMetrics();
      record.usersChecked(2);
      record.checkFailure('GONG_FAILED');
      metrics.publishStoredMetrics();
    });

    const checked = lines.filter((line) => line.UsersChecked !== undefined);
    expect(checked.map((line) => line.UsersChecked)).toEqual([1, 2]);
    for (const line of checked) {
      expect(definition(line)?.Dimensions).toEqual([['service', 'door'], ['service']]);
      expect(line).toMatchObject({ service: 'gong-status', door: 'crmWebhook' });
    }
    const failures = lines.filter((line) => line.CheckFailures !== undefined);
    expect(failures.map((line) => [definition(line)?.Dimensions, line.code, line.CheckFailures])).toEqual([
      [[['service', 'code']], 'GONG_FAILED', 1],
      [[['service', 'code', 'door']], 'GONG_FAILED', 1],
    ]);
    expect(warnings).toEqual([]);
  });

  it('prints nothing when POWERTOOLS_METRICS_DISABLED is true', () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const metrics = createMetrics({ logger });

    const lines = emfPrinted(() => {
      createCheckMetrics(metrics).usersChecked(1);
      metrics.publishStoredMetrics();
    });

    expect(lines).toEqual([]);
  });

  it('prints in dev mode (POWERTOOLS_DEV) only when POWERTOOLS_METRICS_DISABLED is false', () => {
    process.env.POWERTOOLS_DEV = 'true';
    const quiet = createMetrics({ logger });
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const loud = createMetrics({ logger });
    // In dev mode Powertools writes through the global console, which Vitest intercepts.
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => printed.push(line));

    try {
      createCheckMetrics(quiet).usersChecked(1);
      quiet.publishStoredMetrics();
      createCheckMetrics(loud).usersChecked(2);
      loud.publishStoredMetrics();
    } finally {
      spy.mockRestore();
    }

    expect(printed.map((line) => JSON.parse(line).UsersChecked)).toEqual([2]);
  });
});

describe('logMetrics middleware on a door', () => {
  beforeEach(() => {
    delete process.env.POWERTOOLS_DEV;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
  });

  it('prints a ColdStart line on the first invocation and the door metrics when the handler returns or throws', async () => {
    // Lambda sets this for a container started by an invocation; Powertools counts a cold start only then.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const metrics = createMetrics({ logger });
    const record = createCheckMetrics(metrics);
    const handler = middy(async (event: { fail?: boolean }) => {
      record.usersChecked(5);
      if (event.fail) throw new Error('boom');
      return 'ok';
    }).use(logMetrics(metrics, { captureColdStartMetric: true }));
    const context = { functionName: 'gong-status-dev-api', awsRequestId: 'r1' } as Context;

    let printed: string[];
    try {
      ({ lines: printed } = await linesPrinted(process.stdout, async () => {
        await handler({}, context);
        await expect(handler({ fail: true }, context)).rejects.toThrow('boom');
      }));
    } finally {
      delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    }

    const lines = printed.map((line) => JSON.parse(line) as EmfLine);
    const coldStarts = lines.filter((line) => line.ColdStart !== undefined);
    expect(coldStarts).toHaveLength(1);
    expect(coldStarts[0]).toMatchObject({ function_name: 'gong-status-dev-api', service: 'gong-status' });
    expect(definition(coldStarts[0])?.Namespace).toBe('GongStatus');
    expect(lines.filter((line) => line.UsersChecked === 5)).toHaveLength(2);
  });
});
