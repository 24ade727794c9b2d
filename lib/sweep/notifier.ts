/** A message as the sweep hands it over: built elsewhere (Block Kit for Slack), with a plain-text fallback. */
export interface SweepMessage {
  text: string;
  blocks: object[];
}

/** Where the sweep's messages go: the digest to the alert channel, nudges to the broken person. */
export interface SweepNotifier {
  postDigest(message: SweepMessage): Promise<void>;
  /** Sends the person with this email a direct message; false when there is nobody with it to send to. */
  nudge(email: string, message: SweepMessage): Promise<boolean>;
}
