import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { deadlineOf } from '#lib/invocation/deadline.ts';
import { logger } from '#lib/observability/logger.ts';
import { createCheckMetrics, createMetrics } from '#lib/observability/metrics.ts';
import type { SweepAnswer } from '#lib/sweep/sweep.ts';
import { wireSweep } from './wiring/sweep.ts';

const metrics = createMetrics({ logger });
const sweep = wireSweep(undefined, { metrics: createCheckMetrics(metrics) });

/**
 * EventBridge schedule (the event is ignored; `{}` works too), or `{sweepId, token}` from a sweep
 * that handed the rest of its work to this fresh invocation.
 */
// The sweep keeps its own deadline (it hands off before it): middy must not abort it early.
export const handler = middy<unknown, SweepAnswer, Error, Context>({ timeoutEarlyInMillis: 0 })
  // Publishes the sweep's metrics (UsersBroken, BrokenShare, ChangesPosted…) when each invocation ends.
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event, context) => {
    logger.addContext(context);
    return sweep(event, { requestId: context.awsRequestId, deadline: deadlineOf(context) });
  });
