import { stat } from 'node:fs/promises';
import { type BuildOptions, build, context } from 'esbuild';
import { boltLambdaOnly } from './bolt-lambda-only.ts';
import { FUNCTIONS } from './functions.ts';
import { embedPage } from './page.ts';

/** One minified CommonJS bundle per function: the format osls, serverless-offline and Lambda all load. */
export const buildOptions: BuildOptions = {
  entryPoints: Object.fromEntries(Object.entries(FUNCTIONS).map(([name, entry]) => [name, entry])),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  // Lambda runs nodejs22.x; node20 output also runs on this machine's Node 20.
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  // The AWS SDK is bundled, not taken from the runtime: the version we test is the version we run.
  external: [],
  logLevel: 'warning',
  metafile: true,
  plugins: [boltLambdaOnly, embedPage],
};

/** Builds every bundle once, or keeps rebuilding on change with `--watch`. */
export async function buildAll(options: { watch?: boolean } = {}): Promise<void> {
  if (options.watch) {
    const ctx = await context(buildOptions);
    await ctx.watch();
    return;
  }
  await build(buildOptions);
}

async function main(): Promise<void> {
  const watch = process.argv.includes('--watch');
  await buildAll({ watch });
  if (watch) return;
  for (const name of Object.keys(FUNCTIONS)) {
    const { size } = await stat(`dist/${name}.js`);
    console.log(`dist/${name}.js  ${(size / 1024).toFixed(0)} KiB`);
  }
}

if (import.meta.filename === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
