import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch namespace of every product metric (README › Operating it). */
export const METRICS_NAMESPACE = 'GongStatus';
/** The `service` dimension every metric carries; the alarms in infra/alarms.yml select on it. */
export const METRICS_SERVICE = 'gong-status';

/** The product's metric names, as infra/alarms.yml and the dashboard read them. */
export const METRIC = {
  usersChecked: 'UsersChecked',
  checkFailures: 'CheckFailures',
  gongCalls: 'GongCalls',
  gongRateLimited: 'GongRateLimited',
  gongBudgetUsed: 'GongBudgetUsed',
  usersBroken: 'UsersBroken',
  brokenShare: 'BrokenShare',
  brokenShareIncrease: 'BrokenShareIncrease',
  changesPosted: 'ChangesPosted',
} as const;

/** A failure code is a short constant (GONG_TIMEOUT); anything else could be an email and is counted as OTHER. */
const CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];
type MetricsLogger = NonNullable<NonNullable<ConstructorParameters<typeof Metrics>[0]>['logger']>;

/**
 * The Powertools Metrics instance of one function, built once at module scope: Embedded Metric Format
 * lines on stdout, which Lambda's log agent turns into CloudWatch metrics (no API call, no client).
 */
export function createMetrics(options: { logger?: MetricsLogger } = {}): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: METRICS_SERVICE,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/** What the core records; every call is cheap and never throws. */
export interface CheckMetrics {
  /** Emails the check answered for (OK, INVALID or NOT_IN_GONG). */
  usersChecked(count: number): void;
  /** Emails the check could not answer for, by failure code. */
  checkFailure(code: string, count?: number): void;
  /** The same for a report's failures, one line per code. */
  checkFailures(failures: readonly { code: string }[]): void;
  /** One HTTP call to Gong, retries included. */
  gongCall(): void;
  /** Gong answered 429. */
  gongRateLimited(): void;
  /** Share of the UTC day's Gong call budget used so far, in percent. */
  gongBudgetUsed(percent: number): void;
  /** Users the sweep found broken (INVALID or NOT_IN_GONG). */
  usersBroken(count: number): void;
  /** Broken users as a percentage of the users the sweep checked. */
  brokenShare(percent: number): void;
  /** This sweep's broken share minus the previous sweep's, in percentage points (negative when better). */
  brokenShareIncrease(points: number): void;
  /** Changes the sweep's digest posted to Slack. */
  changesPosted(count: number): void;
}

/**
 * The typed recorder over a Metrics instance. Every metric carries `service`; with `door` it is also
 * published per door (a second dimension set), while the alarms keep reading the service-wide series.
 * No dimension ever names a person: per-email detail belongs in the logs.
 */
export function createCheckMetrics(metrics: Metrics, options: { door?: string } = {}): CheckMetrics {
  const { door } = options;

  function add(name: string, unit: Unit, value: number): void {
    if (!Number.isFinite(value)) return;
    // Powertools clears dimension sets whenever it publishes (the handler's end, or 100 values of a
    // metric): re-add them with the first metric of each new batch.
    if (door !== undefined && !metrics.hasStoredMetrics()) {
      metrics.addDimensions({ door });
      metrics.addDimensions({});
    }
    metrics.addMetric(name, unit, value);
  }

  function checkFailure(code: string, count = 1): void {
    if (!Number.isFinite(count) || count <= 0) return;
    // One dimension set holds for all of a batch's metrics, so a per-code count is its own EMF line
    // (and the per-door one another: Powertools refuses one key in two sets of a line).
    const safeCode = CODE_PATTERN.test(code) ? code : 'OTHER';
    const dimensionSets =
      door === undefined ? [{ code: safeCode }] : [{ code: safeCode }, { code: safeCode, door }];
    for (const dimensions of dimensionSets) {
      metrics
        .singleMetric()
        .addDimensions(dimensions)
        .addMetric(METRIC.checkFailures, MetricUnit.Count, count);
    }
  }

  return {
    usersChecked: (count) => add(METRIC.usersChecked, MetricUnit.Count, count),
    checkFailure,
    checkFailures(failures) {
      const byCode = new Map<string, number>();
      for (const { code } of failures) byCode.set(code, (byCode.get(code) ?? 0) + 1);
      for (const [code, count] of byCode) checkFailure(code, count);
    },
    gongCall: () => add(METRIC.gongCalls, MetricUnit.Count, 1),
    gongRateLimited: () => add(METRIC.gongRateLimited, MetricUnit.Count, 1),
    gongBudgetUsed: (percent) => add(METRIC.gongBudgetUsed, MetricUnit.Percent, percent),
    usersBroken: (count) => add(METRIC.usersBroken, MetricUnit.Count, count),
    brokenShare: (percent) => add(METRIC.brokenShare, MetricUnit.Percent, percent),
    brokenShareIncrease: (points) => add(METRIC.brokenShareIncrease, MetricUnit.Percent, points),
    changesPosted: (count) => add(METRIC.changesPosted, MetricUnit.Count, count),
  };
}
