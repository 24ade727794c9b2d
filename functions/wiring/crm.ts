import { createNewUserCheck } from '#lib/crm/new-user-check.ts';
import { createPendingStore } from '#lib/crm/pending-store.ts';
import { type SecretFieldSetting, secretSourceOf } from '#lib/crm/secret-field.ts';
import type { CheckMetrics } from '#lib/observability/metrics.ts';
import { wireCore } from './core.ts';
import { withCheckMetrics } from './metrics.ts';

/** What both CRM doors (the webhook and Salesforce outbound messages) share: the core, the new-user check, their secret. */
export function wireCrm(secret: SecretFieldSetting, checkMetrics: CheckMetrics) {
  const core = wireCore(undefined, undefined, { metrics: checkMetrics });
  return {
    core,
    secret: secretSourceOf(secret, core.clients.secrets),
    // A user Gong does not know yet is kept pending and re-checked on a schedule.
    checkNewUsers: createNewUserCheck({
      checkUsers: withCheckMetrics(core.checkUsers, checkMetrics),
      pending: createPendingStore({ db: core.clients.db, table: core.config.table }),
    }),
  };
}
