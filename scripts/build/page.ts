import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { PageAssets } from '#lib/page/serve-page.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Bundles a page entry (default `web/app.ts`, which imports uPlot's CSS and web/style.css) into one
 * script and one stylesheet, in memory, and returns them with the HTML shell: what the api bundle embeds.
 */
export async function buildPage(options: { entry?: string; minify?: boolean } = {}): Promise<PageAssets> {
  const result = await build({
    entryPoints: { app: resolve(ROOT, options.entry ?? 'web/app.ts') },
    outdir: 'out',
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: options.minify ?? true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
  });
  const text = (suffix: string): string => {
    const file = result.outputFiles.find((output) => output.path.endsWith(suffix));
    if (!file) throw new Error(`esbuild made no ${suffix}`);
    return file.text;
  };
  const html = await readFile(resolve(ROOT, 'web/index.html'), 'utf8');
  return { html, js: text('.js'), css: text('.css') };
}

/** Writes the assets to `dir` as index.html, app.js and app.css. */
export async function writePage(assets: PageAssets, dir = resolve(ROOT, 'dist/web')): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(join(dir, 'index.html'), assets.html),
    writeFile(join(dir, 'app.js'), assets.js),
    writeFile(join(dir, 'app.css'), assets.css),
  ]);
}

function size(text: string): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  return `${kib(Buffer.byteLength(text))} (gzip ${kib(gzipSync(text).byteLength)})`;
}

async function main(): Promise<void> {
  const assets = await buildPage();
  await writePage(assets);
  console.log(`dist/web/index.html  ${size(assets.html)}`);
  console.log(`dist/web/app.js      ${size(assets.js)}`);
  console.log(`dist/web/app.css     ${size(assets.css)}`);
}

if (import.meta.filename === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
