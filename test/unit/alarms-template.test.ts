import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '#lib/observability/metrics.ts';

interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, unknown>;
}
interface Alarm {
  Namespace: string;
  MetricName: string;
  Dimensions: { Name: string; Value: unknown }[];
  Statistic: string;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData?: string;
  AlarmActions: unknown[];
}

/** CloudFormation short tags, kept as `{ tag: value }` so a test can see what they point at. */
const customTags = ['!Ref', '!GetAtt', '!Sub', '!Not', '!Equals'].map((tag) => ({
  tag,
  resolve: (value: unknown) => ({ [tag.slice(1)]: value }),
}));
const collectionTags = ['!Not', '!Equals'].map((tag) => ({
  tag,
  collection: 'seq' as const,
  resolve: (value: { toJSON(): unknown }) => ({ [tag.slice(1)]: value.toJSON() }),
}));

/** How serverless.yml's custom.alarmEmail reaches the file (the Framework substitutes it). */
const ALARM_EMAIL = ['$', '{self:custom.alarmEmail}'].join('');

const FUNCTIONS = {
  api: 'ApiLambdaFunction',
  checkStatus: 'CheckStatusLambdaFunction',
  slack: 'SlackLambdaFunction',
  slackWorker: 'SlackWorkerLambdaFunction',
  crmWebhook: 'CrmWebhookLambdaFunction',
  salesforceOutbound: 'SalesforceOutboundLambdaFunction',
  recheckPending: 'RecheckPendingLambdaFunction',
  sweep: 'SweepLambdaFunction',
};

describe('infra/alarms.yml', () => {
  let template: { Conditions: Record<string, unknown>; Resources: Record<string, Resource> };
  const alarms = () =>
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map((resource) => resource.Properties as unknown as Alarm);
  const alarmOn = (namespace: string, metricName: string) =>
    alarms().filter((alarm) => alarm.Namespace === namespace && alarm.MetricName === metricName);

  beforeAll(async () => {
    const text = await readFile(new URL('../../infra/alarms.yml', import.meta.url), 'utf8');
    template = parse(text, { customTags: [...collectionTags, ...customTags] });
  });

  it('has an SNS topic and an email subscription only when alarmEmail is set', () => {
    const topic = template.Resources.AlarmTopic;
    expect(topic?.Type).toBe('AWS::SNS::Topic');
    const subscriptions = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::SNS::Subscription',
    );
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]).toMatchObject({
      Condition: 'HasAlarmEmail',
      Properties: {
        Protocol: 'email',
        TopicArn: { Ref: 'AlarmTopic' },
        Endpoint: ALARM_EMAIL,
      },
    });
    expect(template.Conditions.HasAlarmEmail).toEqual({
      Not: [{ Equals: [ALARM_EMAIL, ''] }],
    });
  });

  it('notifies the topic from every alarm', () => {
    expect(alarms().length).toBeGreaterThanOrEqual(12);
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it.each(Object.entries(FUNCTIONS))('alarms on any error of %s', (_name, logicalId) => {
    const matching = alarmOn('AWS/Lambda', 'Errors').filter(
      (alarm) =>
        JSON.stringify(alarm.Dimensions) ===
        JSON.stringify([{ Name: 'FunctionName', Value: { Ref: logicalId } }]),
    );
    expect(matching).toHaveLength(1);
    expect(matching[0]).toMatchObject({
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when the slackWorker failure queue holds a message', () => {
    const [alarm, ...others] = alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    expect(others).toEqual([]);
    expect(alarm).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { GetAtt: 'SlackWorkerFailuresQueue.QueueName' } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it.each([
    [METRIC.gongRateLimited, 'Sum', 'GreaterThanThreshold', 0],
    // Background work stops at exactly 80% of the budget: at 80 it has.
    [METRIC.gongBudgetUsed, 'Maximum', 'GreaterThanOrEqualToThreshold', 80],
    [METRIC.brokenShareIncrease, 'Maximum', 'GreaterThanThreshold', 10],
  ])(
    'alarms on %s (%s, %s %d) with the service dimension lib/observability/metrics.ts publishes',
    (metric, stat, operator, threshold) => {
      const [alarm, ...others] = alarmOn(METRICS_NAMESPACE, metric);
      expect(others).toEqual([]);
      expect(alarm).toMatchObject({
        Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
        Statistic: stat,
        Threshold: threshold,
        ComparisonOperator: operator,
        TreatMissingData: 'notBreaching',
      });
    },
  );

  it('has one dashboard showing every alarm and the product metrics', () => {
    const dashboards = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Dashboard',
    );
    expect(dashboards).toHaveLength(1);
    const body = (dashboards[0]?.Properties.DashboardBody as { Sub: string } | undefined)?.Sub ?? '';
    // Substitutions resolved as CloudFormation would, the body must be JSON.
    const json = JSON.parse(body.replace(/\$\{[^}]+\}/g, 'x')) as { widgets: { type: string }[] };
    expect(json.widgets.some((widget) => widget.type === 'alarm')).toBe(true);
    const alarmIds = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
    for (const id of alarmIds) expect(body).toContain(`\${${id}.Arn}`);
    // CheckFailures appears inside a SEARCH expression (one line per code), its quotes escaped.
    for (const name of Object.values(METRIC)) expect(body).toMatch(new RegExp(`\\\\?"${name}\\\\?"`));
    for (const name of Object.keys(FUNCTIONS)) expect(body).toContain(`-${name}"`);
  });
});
