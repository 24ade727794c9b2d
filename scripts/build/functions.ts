/** Every Lambda of serverless.yml: function name → its entry file. The build makes dist/<name>.js from each. */
export const FUNCTIONS: Record<string, string> = {
  api: 'functions/http-api.ts',
  checkStatus: 'functions/check-status.ts',
  slack: 'functions/slack-command.ts',
  slackWorker: 'functions/slack-worker.ts',
  crmWebhook: 'functions/crm-webhook.ts',
  salesforceOutbound: 'functions/salesforce-outbound.ts',
  recheckPending: 'functions/recheck-pending.ts',
  sweep: 'functions/sweep.ts',
};
