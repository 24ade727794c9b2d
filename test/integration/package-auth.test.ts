import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname, '../..');

interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, unknown>;
}
interface Template {
  Conditions: Record<string, unknown>;
  Resources: Record<string, Resource>;
}

const dirs: string[] = [];

/** `osls package --stage ci` with these params, into its own directory; the CloudFormation template. */
async function packageWith(params: Record<string, string>): Promise<Template> {
  const dir = await mkdtemp(join(tmpdir(), 'gong-status-package-'));
  dirs.push(dir);
  const args = [require.resolve('osls/bin/serverless.js'), 'package', '--stage', 'ci', '--package', dir];
  for (const [name, value] of Object.entries(params)) args.push('--param', `${name}=${value}`);
  await promisify(execFile)(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline' },
    timeout: 120_000,
  });
  return JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

/** Evaluates the template's conditions (built from literals: the params are resolved at package time). */
function condition(template: Template, name: string): boolean {
  const evaluate = (node: unknown): boolean => {
    const expression = node as Record<string, unknown[]>;
    if (expression['Fn::Equals']) return expression['Fn::Equals'][0] === expression['Fn::Equals'][1];
    if (expression['Fn::Not']) return !evaluate(expression['Fn::Not'][0]);
    if (typeof (node as { Condition?: unknown }).Condition === 'string')
      return condition(template, (node as { Condition: string }).Condition);
    throw new Error(`condition ${name}: cannot evaluate ${JSON.stringify(node)}`);
  };
  return evaluate(template.Conditions[name]);
}

/** `value` with every Fn::If decided and AWS::NoValue dropped. */
function decide(template: Template, value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .map((item) => decide(template, item))
      .filter((item) => JSON.stringify(item) !== '{"Ref":"AWS::NoValue"}');
  }
  if (value && typeof value === 'object') {
    const branch = (value as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If'];
    if (branch) return decide(template, condition(template, branch[0]) ? branch[1] : branch[2]);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, decide(template, item)]));
  }
  return value;
}

const routes = (template: Template) =>
  Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route');

describe('osls package: who may call the HTTP API (README "Who may call")', () => {
  let cognito: Template;
  let ownIdp: Template;

  beforeAll(async () => {
    // One after the other: two packagings of one service directory at once trip over each other.
    cognito = await packageWith({});
    ownIdp = await packageWith({
      authIssuer: 'https://idp.example.com/realms/acme',
      authAudience: 'acme-gong-status',
      apiThrottleRate: '5',
      apiThrottleBurst: '7',
      apiReservedConcurrency: '3',
    });
  }, 180_000);
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('puts the JWT authorizer on every /v1/* route, and has a catch-all route to api', () => {
    for (const template of [cognito, ownIdp]) {
      const v1 = routes(template).filter((route) => / \/v1(\/|$)/.test(String(route.Properties.RouteKey)));
      expect(v1.length).toBeGreaterThanOrEqual(4);
      for (const route of v1) {
        expect(route.Properties, String(route.Properties.RouteKey)).toMatchObject({
          AuthorizationType: 'JWT',
          AuthorizerId: { Ref: 'HttpApiAuthorizerJwt' },
        });
      }
      const catchAll = routes(template).find((route) => route.Properties.RouteKey === '$default');
      expect(JSON.stringify(catchAll?.Properties.Target)).toContain('HttpApiIntegrationApi');
      expect(template.Resources.HttpApiAuthorizerJwt?.Properties).toMatchObject({
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
      });
    }
  });

  it('sets stage throttling and a reserved concurrency for api: defaults, or the deploy parameters', () => {
    expect(cognito.Resources.HttpApiStage?.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 10,
      ThrottlingBurstLimit: 20,
    });
    expect(cognito.Resources.ApiLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(10);
    const stage = ownIdp.Resources.HttpApiStage?.Properties.DefaultRouteSettings as Record<string, unknown>;
    expect(Number(stage.ThrottlingRateLimit)).toBe(5);
    expect(Number(stage.ThrottlingBurstLimit)).toBe(7);
    expect(Number(ownIdp.Resources.ApiLambdaFunction?.Properties.ReservedConcurrentExecutions)).toBe(3);
  });

  it('creates the Cognito pool, clients, scope and admins group when no issuer is given, and trusts it', () => {
    expect(condition(cognito, 'CreateUserPool')).toBe(true);
    const types = Object.values(cognito.Resources)
      .filter((resource) => resource.Condition === 'CreateUserPool')
      .map((resource) => resource.Type);
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::Cognito::UserPool',
        'AWS::Cognito::UserPoolDomain',
        'AWS::Cognito::UserPoolResourceServer',
        'AWS::Cognito::UserPoolGroup',
        'AWS::Cognito::UserPoolClient',
      ]),
    );
    expect(cognito.Resources.AuthResourceServer?.Properties).toMatchObject({
      Identifier: 'gong-status',
      Scopes: [expect.objectContaining({ ScopeName: 'admin' })],
    });
    expect(cognito.Resources.AuthAdminsGroup?.Properties.GroupName).toBe('gong-status-admins');
    expect(cognito.Resources.AuthPeopleClient?.Properties).toMatchObject({ AllowedOAuthFlows: ['code'] });
    expect(cognito.Resources.AuthServiceClient?.Properties).toMatchObject({
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: ['gong-status/admin'],
    });
    const jwt = decide(cognito, cognito.Resources.HttpApiAuthorizerJwt?.Properties.JwtConfiguration);
    expect(jwt).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub template, not ours
      Issuer: { 'Fn::Sub': 'https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${AuthUserPool}' },
      Audience: [{ Ref: 'AuthPeopleClient' }, { Ref: 'AuthServiceClient' }],
    });
  });

  it('creates no Cognito resources when an issuer is given, and trusts that issuer and audience', () => {
    expect(condition(ownIdp, 'CreateUserPool')).toBe(false);
    const created = Object.entries(ownIdp.Resources)
      .filter(([, resource]) => resource.Type.startsWith('AWS::Cognito::'))
      .filter(([, resource]) => !resource.Condition || condition(ownIdp, resource.Condition));
    expect(created).toEqual([]);
    const jwt = decide(ownIdp, ownIdp.Resources.HttpApiAuthorizerJwt?.Properties.JwtConfiguration);
    expect(jwt).toEqual({ Issuer: 'https://idp.example.com/realms/acme', Audience: ['acme-gong-status'] });
    const env = decide(ownIdp, ownIdp.Resources.ApiLambdaFunction?.Properties.Environment);
    expect(env).toMatchObject({
      Variables: {
        AUTH_VERIFY: 'gateway',
        AUTH_ISSUER: 'https://idp.example.com/realms/acme',
        AUTH_AUDIENCE: 'acme-gong-status',
      },
    });
  });

  it('names each secret exactly: a -?????? suffix, never -* (which matches gong-status/gong-anything)', () => {
    const text = JSON.stringify(cognito.Resources);
    expect(text).not.toMatch(/:secret:[^"]*-\*/);
    expect(text).toMatch(/:secret:gong-status\/gong-\?\?\?\?\?\?/);
  });

  it('holds the api, checkStatus and sweep roles to their partitions with dynamodb:LeadingKeys', () => {
    for (const role of ['ApiRole', 'CheckStatusRole', 'SweepRole']) {
      const policies = cognito.Resources[role]?.Properties.Policies as {
        PolicyDocument: {
          Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
        };
      }[];
      const onTable = policies
        .flatMap((policy) => policy.PolicyDocument.Statement)
        .filter(
          (statement) => JSON.stringify(statement.Resource) === '{"Fn::GetAtt":["HistoryTable","Arn"]}',
        );
      expect(onTable.length, role).toBeGreaterThan(0);
      for (const statement of onTable) {
        expect(statement.Condition, role).toMatchObject({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': expect.arrayContaining(['USER#*']) },
        });
      }
    }
  });
});
