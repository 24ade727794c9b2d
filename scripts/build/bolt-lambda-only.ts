import type { Plugin } from 'esbuild';

// Bolt's App.js requires its HTTP and Socket Mode receivers at load time, and with them express,
// @slack/oauth, @slack/socket-mode and undici: over half the slack bundle. We always pass
// AwsLambdaReceiver, so App never constructs either; they are bundled as stubs that refuse construction.
const UNUSED_RECEIVER = /^\.\/receivers\/(HTTPReceiver|SocketModeReceiver)$/;
const BOLT_APP = /[\\/]@slack[\\/]bolt[\\/]dist[\\/]App\.js$/;

/** esbuild plugin: bundles Bolt for AWS Lambda only (see above); other bundles are untouched. */
export const boltLambdaOnly: Plugin = {
  name: 'bolt-lambda-only',
  setup(build) {
    build.onResolve({ filter: UNUSED_RECEIVER }, (args) =>
      BOLT_APP.test(args.importer) ? { path: args.path, namespace: 'bolt-unused-receiver' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'bolt-unused-receiver' }, (args) => ({
      loader: 'js',
      contents: `exports.__esModule = true;
exports.default = class UnbundledReceiver {
  constructor() { throw new Error(${JSON.stringify(`Bolt ${args.path.slice('./receivers/'.length)} is not bundled: gong-status runs Bolt on AwsLambdaReceiver`)}); }
};`,
    }));
  },
};
