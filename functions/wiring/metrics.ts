import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { CheckUsers } from '#lib/check/check-users.ts';
import { logger } from '#lib/observability/logger.ts';
import { type CheckMetrics, createCheckMetrics, createMetrics } from '#lib/observability/metrics.ts';

/** One door's metrics (README › Operating it): the Powertools instance, its typed recorder, its middleware. */
export interface DoorMetrics {
  metrics: Metrics;
  record: CheckMetrics;
  /** Powertools' logMetrics: a ColdStart line on a container's first invocation, a flush when the handler returns or throws. */
  middleware(): MiddlewareObj;
}

/** Built once at module scope; `door` is the function's name in serverless.yml (the `door` dimension). */
export function createDoorMetrics(door: string): DoorMetrics {
  const metrics = createMetrics({
    logger: {
      debug: (...parts) => logger.debug(String(parts[0]), ...parts.slice(1)),
      info: (...parts) => logger.info(String(parts[0]), ...parts.slice(1)),
      // Powertools warns at every flush with nothing to publish: a read-only request (GET /v1/users) is
      // normal, not a warning worth a log line each time.
      warn: (...parts) => {
        const message = String(parts[0]);
        if (message.startsWith('No application metrics to publish')) logger.debug(message);
        else logger.warn(message);
      },
      error: (...parts) => logger.error(String(parts[0])),
    },
  });
  return {
    metrics,
    record: createCheckMetrics(metrics, { door }),
    middleware: () => logMetrics(metrics, { captureColdStartMetric: true }) as MiddlewareObj,
  };
}

/** The check, counting each report's answers (UsersChecked) and failures by code (CheckFailures). */
export function withCheckMetrics(checkUsers: CheckUsers, record: CheckMetrics): CheckUsers {
  return async (emails, options) => {
    const report = await checkUsers(emails, options);
    record.usersChecked(report.results.length);
    record.checkFailures(report.failures);
    return report;
  };
}

/** A plain (non-middy) door handler with its metrics middleware: what Lambda invokes. */
export function withDoorMetrics<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  doorMetrics: DoorMetrics,
): (event: E, context: Context) => Promise<R> {
  return middy<E, R>()
    .use(doorMetrics.middleware())
    .handler((event, context) => handler(event, context));
}
