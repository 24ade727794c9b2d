import { describe, expect, it } from 'vitest';
import { PACKAGE_TIMEOUT_MS, type PackagedTemplate, packageTemplate } from '../support/package.ts';

/** The api function's environment as the packaged template gives it. */
function apiEnvironment(template: PackagedTemplate): Record<string, unknown> {
  const api = Object.entries(template.Resources).find(
    ([id, resource]) => resource.Type === 'AWS::Lambda::Function' && id.startsWith('ApiLambdaFunction'),
  );
  const environment = api?.[1].Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

describe('serverless.yml: the team-health page in AWS (osls package)', () => {
  it(
    'gives api the Cognito people client, the id token and the hosted-UI origin, and routes / to api without a token',
    async () => {
      const template = await packageTemplate();

      expect(apiEnvironment(template)).toMatchObject({
        PAGE_CLIENT_ID: { 'Fn::If': ['CreateUserPool', { Ref: 'AuthPeopleClient' }, ''] },
        PAGE_USE_ID_TOKEN: { 'Fn::If': ['CreateUserPool', 'true', 'false'] },
        PAGE_CONNECT_ORIGINS: {
          'Fn::If': [
            'CreateUserPool',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own Fn::Sub syntax
            { 'Fn::Sub': 'https://${AuthUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com' },
            '',
          ],
        },
      });
      const routes = Object.values(template.Resources)
        .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
        .map((resource) => resource.Properties ?? {});
      const byKey = new Map(routes.map((route) => [route.RouteKey, route]));
      for (const key of ['GET /v1/problems', 'GET /v1/stats/daily']) {
        expect(byKey.get(key)?.AuthorizationType, key).toBe('JWT');
      }
      // The page's shell and assets arrive through the catch-all, which asks for no token.
      expect(byKey.get('$default')?.AuthorizationType ?? 'NONE').toBe('NONE');
    },
    PACKAGE_TIMEOUT_MS,
  );

  it(
    'takes the page client from parameters when an own issuer replaces Cognito',
    async () => {
      const template = await packageTemplate({
        params: {
          authIssuer: 'https://login.example.com',
          pageClientId: 'page-client',
          pageUseIdToken: 'true',
        },
      });

      expect(apiEnvironment(template)).toMatchObject({
        PAGE_CLIENT_ID: { 'Fn::If': ['CreateUserPool', { Ref: 'AuthPeopleClient' }, 'page-client'] },
        PAGE_USE_ID_TOKEN: { 'Fn::If': ['CreateUserPool', 'true', 'true'] },
      });
    },
    PACKAGE_TIMEOUT_MS,
  );
});
