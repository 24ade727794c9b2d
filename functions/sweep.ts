import type { Context } from 'aws-lambda';
import { deadlineOf } from '#lib/deadline.ts';
import { logger } from '#lib/logger.ts';
import type { SweepAnswer } from '#lib/sweep/sweep.ts';
import { wireSweep } from './wiring/sweep.ts';

const sweep = wireSweep();

/**
 * EventBridge schedule (the event is ignored; `{}` works too), or `{sweepId}` from a sweep that
 * handed the rest of its work to this fresh invocation.
 */
export async function handler(event: unknown, context: Context): Promise<SweepAnswer> {
  logger.addContext(context);
  return sweep(event, { requestId: context.awsRequestId, deadline: deadlineOf(context) });
}
