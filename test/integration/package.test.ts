import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '#lib/observability/metrics.ts';
import {
  PACKAGE_TIMEOUT_MS,
  type PackagedTemplate,
  packageTemplate,
  resourcesOfType,
} from '../support/package.ts';

interface AlarmProperties {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions: unknown[];
}

const alarmsOf = (template: PackagedTemplate) =>
  resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, resource]) => ({
    id,
    ...(resource.Properties as unknown as AlarmProperties),
  }));
const productAlarm = (template: PackagedTemplate, metric: string) =>
  alarmsOf(template).find((alarm) => alarm.Namespace === METRICS_NAMESPACE && alarm.MetricName === metric);

describe('osls package --stage ci (the CloudFormation template as deployed)', () => {
  let template: PackagedTemplate;

  beforeAll(async () => {
    template = await packageTemplate();
  }, PACKAGE_TIMEOUT_MS);

  it('has the SNS alarm topic, and every alarm notifies it', () => {
    expect(template.Resources.AlarmTopic?.Type).toBe('AWS::SNS::Topic');
    const alarms = alarmsOf(template);
    expect(alarms.length).toBeGreaterThanOrEqual(12);
    for (const alarm of alarms) expect(alarm.AlarmActions, alarm.id).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it('has an Errors alarm on every function', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function').map(([id]) => id);
    expect(functions).toHaveLength(8);
    const watched = alarmsOf(template)
      .filter((alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === 'Errors')
      .map((alarm) => alarm.Dimensions?.find((d) => d.Name === 'FunctionName')?.Value);
    expect(watched).toEqual(expect.arrayContaining(functions.map((id) => ({ Ref: id }))));
    expect(watched).toHaveLength(functions.length);
  });

  it('alarms when a message is visible in the slackWorker failure queue', () => {
    const queue = alarmsOf(template).find(
      (alarm) => alarm.Namespace === 'AWS/SQS' && alarm.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(queue?.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': ['SlackWorkerFailuresQueue', 'QueueName'] } },
    ]);
    expect(queue).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(template.Resources.SlackWorkerFailuresQueue?.Type).toBe('AWS::SQS::Queue');
  });

  it.each([
    [METRIC.gongRateLimited, 'GreaterThanThreshold', 0],
    // Background work stops at exactly 80%: the alarm must fire when it has, not only past it.
    [METRIC.gongBudgetUsed, 'GreaterThanOrEqualToThreshold', 80],
    [METRIC.brokenShareIncrease, 'GreaterThanThreshold', 10],
  ])('alarms on %s (%s %d), service-wide', (metric, operator, threshold) => {
    const alarm = productAlarm(template, metric);
    expect(alarm).toMatchObject({ Threshold: threshold, ComparisonOperator: operator });
    expect(alarm?.Dimensions).toEqual([{ Name: 'service', Value: METRICS_SERVICE }]);
  });

  it('has one dashboard showing every alarm', () => {
    const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const [, dashboard] = dashboards[0] ?? [];
    const source =
      (dashboard?.Properties?.DashboardBody as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'] ?? '';
    const body = { 'Fn::Sub': source };
    // With its substitutions replaced by placeholders, the body must be the JSON CloudWatch takes.
    const widgets = JSON.parse(body['Fn::Sub'].replace(/\$\{[^}]+\}/g, 'x')).widgets as unknown[];
    expect(widgets.length).toBeGreaterThan(1);
    for (const { id } of alarmsOf(template)) expect(body['Fn::Sub']).toContain(`\${${id}.Arn}`);
    for (const metric of Object.values(METRIC)) expect(body['Fn::Sub']).toContain(metric);
  });

  it('mails no one unless alarmEmail is given', () => {
    expect(template.Resources.AlarmEmailSubscription?.Condition).toBe('HasAlarmEmail');
    expect(template.Conditions?.HasAlarmEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });

  it('lets salesforceOutbound read, update and delete its own idempotency records only', () => {
    const role = JSON.stringify(template.Resources.SalesforceOutboundRole);
    expect(role).toContain('idempotency#salesforceOutbound');
    expect(role).not.toContain('idempotency#crmWebhook');
    expect(role).toContain('dynamodb:DeleteItem');
  });
});

describe('osls package --stage ci --param alarmEmail=…', () => {
  it(
    'subscribes the address to the alarm topic',
    async () => {
      const template = await packageTemplate({ params: { alarmEmail: 'oncall@example.com' } });

      expect(template.Resources.AlarmEmailSubscription?.Properties).toMatchObject({
        Protocol: 'email',
        Endpoint: 'oncall@example.com',
        TopicArn: { Ref: 'AlarmTopic' },
      });
      expect(template.Conditions?.HasAlarmEmail).toEqual({
        'Fn::Not': [{ 'Fn::Equals': ['oncall@example.com', ''] }],
      });
    },
    PACKAGE_TIMEOUT_MS,
  );
});
