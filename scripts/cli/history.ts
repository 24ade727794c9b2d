import { parseArgs } from 'node:util';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import type { StoredResult } from '#lib/history/history-store.ts';
import { finish, openCliCore, UsageError, write } from './cli-core.ts';
import { renderHistory } from './cli-output.ts';

const USAGE = `Usage: npm run history -- [--json] [--limit N] <email>

Prints the stored checks of one user, newest first (the last 20 unless --limit).
Exit code: 0 when there is history, 1 when the user was never checked, 2 on bad input or errors.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      limit: { type: 'string', short: 'n', default: '20' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const email = normaliseEmail(positionals[0] ?? '');
  if (positionals.length !== 1 || !isEmail(email)) throw new UsageError(`Give one email.\n\n${USAGE}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer.`);

  const { core, where, close } = await openCliCore();
  process.stderr.write(`Reading history from ${where}\n`);
  try {
    const items: StoredResult[] = [];
    let cursor: string | undefined;
    do {
      const page = await core.store.listHistory(email, {
        limit: Math.min(100, limit - items.length),
        ...(cursor ? { cursor } : {}),
      });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && items.length < limit);

    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    if (values.json) await write(`${JSON.stringify({ email, items }, null, 2)}\n`);
    else if (items.length > 0) await write(renderHistory(email, items, { color }));
    else process.stderr.write(`${email} has never been checked\n`);
    return items.length > 0 ? 0 : 1;
  } finally {
    await close();
  }
}

finish(main(process.argv.slice(2)));
