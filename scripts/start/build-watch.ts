import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { context, type Plugin } from 'esbuild';
import { buildOptions } from '../build/build.ts';
import { type Lifecycle, StartError } from './lifecycle.ts';
import { log, ROOT } from './paths.ts';

/** Builds every bundle, then keeps rebuilding on change; serverless-offline reloads handlers per request. */
export async function startBuild(lifecycle: Lifecycle): Promise<void> {
  let first = true;
  const ctx = await context({
    ...buildOptions,
    write: false,
    plugins: [...(buildOptions.plugins ?? []), writeChanged(() => first)],
  });
  lifecycle.started('esbuild', () => ctx.dispose());
  const result = await ctx.rebuild().catch((error: unknown) => {
    throw new StartError(`The build failed: fix the errors above, then npm start again.`, { cause: error });
  });
  first = false;
  if (result.errors.length > 0) throw new StartError('The build failed: fix the errors above.');
  await ctx.watch();
}

/**
 * Writes only the bundles whose bytes changed, each through a rename: tests and serverless-offline
 * load dist/ while we rebuild, and must never see half a file.
 */
function writeChanged(isFirst: () => boolean): Plugin {
  return {
    name: 'write-changed',
    setup(build) {
      build.onEnd(async (result) => {
        const changed: string[] = [];
        for (const file of result.outputFiles ?? []) {
          const current = await readFile(file.path).catch(() => undefined);
          if (current?.equals(file.contents)) continue;
          await mkdir(dirname(file.path), { recursive: true });
          const temporary = `${file.path}.${process.pid}.tmp`;
          await writeFile(temporary, file.contents);
          await rename(temporary, file.path);
          if (file.path.endsWith('.js')) changed.push(relative(ROOT, file.path));
        }
        if (!isFirst() && changed.length > 0) log(`rebuilt ${changed.join(', ')}`);
      });
    },
  };
}
