import { parseArgs } from 'node:util';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import { MINT_PATH } from '#local/oidc-issuer.ts';
import { loadEnvFile, localSettings, readRunningState } from '#local/stack.ts';
import { finish, UsageError, write } from './cli-core.ts';

const USAGE = `Usage: npm run -s token -- --email <email> [--admin] [--issuer URL]

Prints a bearer token (and nothing else) from the local OpenID Connect issuer of the running
npm start, or of --issuer. The local API accepts it for an hour:
  curl -H "Authorization: Bearer $(npm run -s token -- --email ada@example.com)" localhost:3000/v1/users/ada@example.com
--admin makes it an admin's token; addresses in LOCAL_ADMINS are admins anyway.
Exit code: 0 with a token, 2 on bad input or when no issuer answers.`;

/** The issuer to ask: --issuer, else the one the running npm start wrote to its state file. */
async function findIssuer(given: string | undefined): Promise<string> {
  if (given) {
    if (!URL.canParse(given)) throw new UsageError(`--issuer must be a URL (got ${given})`);
    return given.replace(/\/+$/, '');
  }
  const settings = localSettings(process.env);
  const running = await readRunningState(settings.dataDir);
  if (!running)
    throw new UsageError('No npm start is running on this data dir: start it, or give --issuer URL.');
  const issuer = (running.urls as { issuer?: string }).issuer;
  if (!issuer)
    throw new UsageError(
      `The running npm start (pid ${running.pid}) has no local issuer: give --issuer URL.`,
    );
  return issuer;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      email: { type: 'string' },
      admin: { type: 'boolean', default: false },
      issuer: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const email = normaliseEmail(values.email ?? '');
  if (!isEmail(email)) throw new UsageError(`Give --email with an email address.\n\n${USAGE}`);
  loadEnvFile();
  const issuer = await findIssuer(values.issuer);

  let response: Response;
  try {
    response = await fetch(`${issuer}${MINT_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, admin: values.admin }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error: unknown) {
    throw new Error(`The local issuer at ${issuer} did not answer`, { cause: error });
  }
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: unknown;
    error_description?: unknown;
  };
  if (!response.ok || typeof body.access_token !== 'string') {
    const reason = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
    throw new Error(
      `The local issuer at ${issuer} answered ${response.status} to POST ${MINT_PATH}${reason}`,
    );
  }
  await write(`${body.access_token}\n`);
  return 0;
}

finish(main(process.argv.slice(2)));
