/**
 * The one secondary index of the product's table (infra/table.yml), overloaded by partition:
 * `STATUS#<status>` (latest results), `PENDING` (CRM re-checks), `CHANGES#PENDING` (the outbox).
 */
export const STATUS_INDEX = 'gsi1';
