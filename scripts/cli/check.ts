import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { text as readStream } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import { parseEmailList } from '#lib/check/emails.ts';
import { finish, openCliCore, UsageError, write } from './cli-core.ts';
import { createProgress, emailsFromText, exitCodeOf, renderReport } from './cli-output.ts';

const USAGE = `Usage: npm run check -- [--json] [--file emails.txt|emails.csv] [email …]

Checks each email in Gong, stores the answers, and prints a table (or the report with --json).
Emails come from the arguments, from --file, or from stdin: one per line, or separated by
commas or spaces; a .csv file uses its "email" column.
Exit code: 0 all valid, 1 any invalid or unknown to Gong, 2 any failure or bad input.`;

/** Seconds we allow per Gong call on top of a minute: generous, since other checks may share the pace. */
const SECONDS_PER_CALL = 2;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      file: { type: 'string', short: 'f' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const emails = emailsFromText(positionals.join('\n'));
  if (values.file) {
    const format = extname(values.file).toLowerCase() === '.csv' ? 'csv' : 'text';
    emails.push(...emailsFromText(await readFile(values.file, 'utf8'), format));
  } else if (emails.length === 0 && !process.stdin.isTTY) {
    emails.push(...emailsFromText(await readStream(process.stdin)));
  }
  if (emails.length === 0) throw new UsageError(`No emails given.\n\n${USAGE}`);
  // Bad entries fail here, named, before anything starts; the core checks the same way again.
  parseEmailList(emails);

  const { core, where, close } = await openCliCore();
  process.stderr.write(`Checking against ${where}\n`);
  const progress = createProgress({ emails: emails.length, stream: process.stderr });
  try {
    const calls = Math.ceil(emails.length / 100);
    const report = await core.checkUsers(emails, {
      source: 'cli',
      requestId: randomUUID(),
      deadline: Date.now() + 60_000 + calls * SECONDS_PER_CALL * 1000,
      onBatchDone: progress.onBatchDone,
    });
    progress.finish();
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    await write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, { color }));
    return exitCodeOf(report);
  } finally {
    progress.finish();
    await close();
  }
}

finish(main(process.argv.slice(2)));
