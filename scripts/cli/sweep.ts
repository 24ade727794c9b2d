import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { SweepMessage, SweepNotifier } from '#lib/sweep/notifier.ts';
import type { SweepAnswer, SweepContinuation } from '#lib/sweep/sweep.ts';
import { sweepPostsToSlack } from '../../functions/wiring/config.ts';
import { finish, openCliCore, UsageError, write } from './cli-core.ts';

const USAGE = `Usage: npm run sweep -- [--discover] [--nudge]

Runs the scheduled sweep once, here (what the sweep function does daily in AWS): re-checks every
stored user at GONG_MAX_RPS, records who broke or was fixed, and prints the answer as JSON.
--discover also checks every active Gong user (GET /v2/users; SWEEP_DISCOVER=true does the same),
--nudge DMs broken users on days 1, 3 and 7 (NUDGE_USERS=true).
The digest goes to ALERT_CHANNEL when SLACK_BOT_TOKEN (or SLACK_SECRET_ID) and ALERT_CHANNEL are
set (in the environment or .env); otherwise it and any nudges are printed here.`;

/** As long as the Lambda's own timeout; a longer sweep carries on in the same process. */
const RUN_MS = 900_000;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      discover: { type: 'boolean', default: false },
      nudge: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    await write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`Unexpected arguments: ${positionals.join(' ')}\n\n${USAGE}`);

  const { core, where, close } = await openCliCore();
  if (values.discover) process.env.SWEEP_DISCOVER = 'true';
  if (values.nudge) process.env.NUDGE_USERS = 'true';
  const toSlack = sweepPostsToSlack();
  process.stderr.write(
    `Sweeping against ${where}; digest ${toSlack ? `to Slack channel ${process.env.ALERT_CHANNEL}` : 'printed here'}\n`,
  );
  try {
    // Imported after openCliCore: the wiring reads the environment it set.
    const { wireSweep } = await import('../../functions/wiring/sweep.ts');
    const pending: SweepContinuation[] = [];
    const sweep = wireSweep(process.env, {
      core,
      // No Lambda to hand the rest to: this process carries on itself.
      handOff: async (event) => {
        pending.push(event);
      },
      ...(toSlack ? {} : { notifier: terminalNotifier() }),
    });
    let event: unknown = {};
    let answer: SweepAnswer;
    for (;;) {
      answer = await sweep(event, { requestId: randomUUID(), deadline: Date.now() + RUN_MS });
      const next = pending.shift();
      if (answer.done || !next) break;
      process.stderr.write(`…${answer.checked} checked so far, carrying on\n`);
      event = next;
    }
    await write(`${JSON.stringify(answer, null, 2)}\n`);
    return answer.done ? 0 : 1;
  } finally {
    await close();
  }
}

/** Prints what would go to Slack: the digest's fallback text, and whom a nudge would reach. */
function terminalNotifier(): SweepNotifier {
  const print = (title: string, message: SweepMessage) =>
    process.stderr.write(`\n${title}\n${message.text}\n\n`);
  return {
    async postDigest(message) {
      print('Digest (would go to ALERT_CHANNEL):', message);
    },
    async nudge(email, message) {
      print(`Nudge (would be a Slack DM to ${email}):`, message);
      return true;
    },
  };
}

finish(main(process.argv.slice(2)));
