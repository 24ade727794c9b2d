import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { EXAMPLE_USERS } from '#local/gong-sandbox.ts';
import {
  LOCAL_SLACK_SIGNING_SECRET,
  LOCAL_STAGE,
  type LocalServices,
  type StackState,
} from '#local/stack.ts';
import { log, ROOT, shortPath } from './paths.ts';

export function printBanner(options: {
  state: StackState;
  services: LocalServices;
  envFile: string | undefined;
  dataDir: string;
  seconds: number;
}): void {
  const { state, services, envFile, dataDir } = options;
  const { urls } = state;
  const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
  const routes = httpRoutes();
  log();
  log(
    bold(`gong-status is running locally (stage ${LOCAL_STAGE}, ready in ${options.seconds.toFixed(1)} s)`),
  );
  log();
  log(`  HTTP API        ${urls.http}  (serverless-offline, every route of serverless.yml)`);
  for (const route of routes) log(`                    ${route}`);
  if (services.issuer) {
    log(
      `  Sign-in         ${services.issuer.url}  (local OpenID Connect issuer; /v1/* needs its bearer token)`,
    );
    log(
      `                    admins: ${services.issuer.admins.join(', ')} (LOCAL_ADMINS); anyone else is a member; any password`,
    );
    log(
      bold(
        `  Team health     ${urls.http}/  (the page: Log in as ${services.issuer.admins[0]} to see the team)`,
      ),
    );
  }
  log(`  Lambda invoke   ${urls.lambda}  (AWS_ENDPOINT_URL_LAMBDA of the functions)`);
  log(
    `  DynamoDB        ${urls.dynamodb}  (dynalite, table ${state.table}, data in ${shortPath(dataDir)}/dynamodb)`,
  );
  if (state.gong === 'sandbox') {
    log(
      bold(
        `  Gong            SANDBOX at ${urls.gong} — no Gong credentials configured, so not your company's Gong`,
      ),
    );
  } else if (state.gong === 'env') {
    log(bold(`  Gong            REAL Gong at ${urls.gong}, key GONG_ACCESS_KEY from the environment`));
  } else {
    log(
      bold(
        `  Gong            REAL Gong, credentials from Secrets Manager secret ${process.env.GONG_SECRET_ID}`,
      ),
    );
  }
  if (urls.slackApi) {
    log(
      `  Slack Web API   STAND-IN at ${urls.slackApi} — no Slack app configured; sign requests with ${LOCAL_SLACK_SIGNING_SECRET}`,
    );
  } else {
    log(
      `  Slack           ${state.slack === 'secret' ? 'secret SLACK_SECRET_ID' : 'SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN'}, Web API at ${process.env.SLACK_API_URL || 'https://slack.com/api/'}`,
    );
  }
  const settingsFrom = !envFile
    ? 'the environment only'
    : envFile.endsWith('.env.example')
      ? '.env.example (no .env yet: copy it to .env to change settings)'
      : `${shortPath(envFile)}`;
  log(`  Settings        ${settingsFrom}`);
  if (services.sandbox) {
    log();
    log('  Sandbox users:');
    for (const user of EXAMPLE_USERS) {
      const what = !user.exists
        ? 'unknown to Gong'
        : user.valid
          ? 'valid'
          : `not connected: ${user.userFacingError}`;
      log(`    ${user.email.padEnd(22)} ${what}`);
    }
    log('    any other @example.com is valid; local part broken… is not connected, unknown… is unknown');
  }
  log();
  log('  Try (a token lasts an hour; --admin for every route, else only your own email):');
  log('    TOKEN=$(npm run -s token -- --email admin@example.com --admin)');
  log(
    `    curl -s ${urls.http}/v1/checks -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"emails":["ada@example.com","grace@example.com"]}'`,
  );
  log(`    curl -s ${urls.http}/v1/users/grace@example.com/history -H "authorization: Bearer $TOKEN"`);
  log('    npm run check -- ada@example.com grace@example.com nobody@example.com');
  log();
  log('  Ctrl-C stops everything.');
  log();
}

/** The HTTP routes serverless.yml declares, as `METHOD /path`. */
function httpRoutes(): string[] {
  try {
    // CloudFormation tags (!GetAtt…) mean nothing here; only the events are read.
    const config = parse(readFileSync(resolve(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
      functions?: Record<string, { events?: { httpApi?: string | { method?: string; path?: string } }[] }>;
    };
    const routes: string[] = [];
    for (const fn of Object.values(config.functions ?? {})) {
      for (const event of fn.events ?? []) {
        const route = event.httpApi;
        if (route === '*') routes.push('* (any other path or method: the api function, our JSON 404)');
        else if (typeof route === 'string') routes.push(route);
        else if (route?.path) routes.push(`${(route.method ?? 'ANY').toUpperCase()} ${route.path}`);
      }
    }
    return routes;
  } catch {
    return [];
  }
}
