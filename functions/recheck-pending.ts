import type { Context } from 'aws-lambda';
import { createPendingStore } from '#lib/crm/pending-store.ts';
import { createRecheckPending, type RecheckSummary, recheckWindowFrom } from '#lib/crm/recheck-pending.ts';
import { deadlineOf } from '#lib/invocation/deadline.ts';
import { wireCore } from './wiring/core.ts';
import { createDoorMetrics, withCheckMetrics, withDoorMetrics } from './wiring/metrics.ts';

const metrics = createDoorMetrics('recheckPending');
// Gong's own counts (GongCalls, GongRateLimited, GongBudgetUsed) come from the requester and pacer.
const core = wireCore(undefined, undefined, { metrics: metrics.record });
const recheck = createRecheckPending({
  pending: createPendingStore({ db: core.clients.db, table: core.config.table }),
  checkUsers: withCheckMetrics(core.checkUsers, metrics.record),
  logger: core.logger,
});

/** EventBridge schedule (or by hand, `{"all"?, "asOf"?}`): re-checks the due CRM users Gong did not know yet. */
async function recheckPending(event: unknown, context: Context): Promise<RecheckSummary> {
  core.logger.addContext(context);
  return recheck({
    ...recheckWindowFrom(event),
    requestId: context.awsRequestId,
    deadline: deadlineOf(context),
  });
}

export const handler = withDoorMetrics(recheckPending, metrics);
