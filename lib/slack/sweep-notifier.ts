import { type SlackApi, SlackApiError } from '#lib/slack/web-api.ts';
import type { SweepNotifier } from '#lib/sweep/notifier.ts';

/** The sweep's notifier over Slack's Web API: chat.postMessage, and users.lookupByEmail to find whom to DM. */
export function createSlackNotifier(options: { slack: SlackApi; channel: string }): SweepNotifier {
  const { slack, channel } = options;
  return {
    async postDigest(message) {
      try {
        await slack.postMessage(channel, message);
      } catch (error: unknown) {
        // Slack refusing the blocks must not lose the digest: the fallback text says the same.
        if (!(error instanceof SlackApiError) || !error.code.includes('invalid_blocks')) throw error;
        await slack.postMessage(channel, { text: message.text });
      }
    },
    async nudge(email, message) {
      let userId: unknown;
      try {
        // Needs the users:read.email scope; the email must be the one in their Slack profile.
        const found = await slack.call('users.lookupByEmail', { email });
        userId = (found.user as { id?: unknown } | undefined)?.id;
      } catch (error: unknown) {
        if (error instanceof SlackApiError && error.code === 'users_not_found') return false;
        throw error;
      }
      if (typeof userId !== 'string') return false;
      // Posting to a user id lands in the app's DM with them (chat:write).
      await slack.postMessage(userId, message);
      return true;
    },
  };
}
