import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createPendingStore } from '#lib/crm/pending-store.ts';
import { createRecheckPending, recheckWindowFrom } from '#lib/crm/recheck-pending.ts';
import { finish, openCliCore, UsageError, write } from './cli-core.ts';

const USAGE = `Usage: npm run recheck -- [--all] [--as-of <ISO time>]

Runs the scheduled re-check of CRM-created users Gong did not know yet (what recheckPending does
every 5 minutes in AWS): users due now, or with --all everyone pending, or with --as-of as if it
were that time. Prints the run's summary as JSON.`;

/** As long as the Lambda's own timeout. */
const RUN_MS = 300_000;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      'as-of': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    await write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`Unexpected arguments: ${positionals.join(' ')}\n\n${USAGE}`);
  const window = recheckWindowFrom({
    all: values.all,
    ...(values['as-of'] ? { asOf: values['as-of'] } : {}),
  });

  const { core, where, close } = await openCliCore();
  process.stderr.write(`Re-checking pending users against ${where}\n`);
  try {
    const recheck = createRecheckPending({
      pending: createPendingStore({ db: core.clients.db, table: core.config.table }),
      checkUsers: core.checkUsers,
      logger: core.logger,
    });
    const summary = await recheck({ ...window, requestId: randomUUID(), deadline: Date.now() + RUN_MS });
    await write(`${JSON.stringify(summary, null, 2)}\n`);
    return summary.failed > 0 || !summary.done ? 1 : 0;
  } finally {
    await close();
  }
}

finish(main(process.argv.slice(2)));
