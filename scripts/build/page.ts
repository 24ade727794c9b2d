import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import type { PageAssets } from '#lib/page/serve-page.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Bundles a page entry (default `web/app.ts`, which imports uPlot's CSS and web/style.css) into one
 * script and one stylesheet, in memory, and returns them with the HTML shell: what the api bundle embeds.
 */
export async function buildPage(options: { entry?: string; minify?: boolean } = {}): Promise<PageAssets> {
  return (await buildPageWithInputs(options)).assets;
}

async function buildPageWithInputs(
  options: { entry?: string; minify?: boolean } = {},
): Promise<{ assets: PageAssets; inputs: string[] }> {
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
    metafile: true,
  });
  const text = (suffix: string): string => {
    const file = result.outputFiles.find((output) => output.path.endsWith(suffix));
    if (!file) throw new Error(`esbuild made no ${suffix}`);
    return file.text;
  };
  const shell = resolve(ROOT, 'web/index.html');
  const html = await readFile(shell, 'utf8');
  const inputs = [shell, ...Object.keys(result.metafile.inputs).map((input) => resolve(ROOT, input))];
  return { assets: { html, js: text('.js'), css: text('.css') }, inputs };
}

/** The module the api bundle reads the page from; the plugin below gives it the built assets. */
const PAGE_ASSETS_MODULE = /[\\/]lib[\\/]page[\\/]page-assets\.ts$/;

/**
 * An esbuild plugin that builds the page while the functions are bundled and embeds it as the
 * `pageAssets` of lib/page/page-assets.ts: `npm run build` stays one step, and in watch mode
 * (npm start) an edit under web/ rebuilds the api bundle too.
 */
export const embedPage: Plugin = {
  name: 'embed-page',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: PAGE_ASSETS_MODULE }, async () => {
      const { assets, inputs } = await buildPageWithInputs();
      return {
        contents: `export const pageAssets = ${JSON.stringify(assets)};`,
        loader: 'js',
        watchFiles: inputs,
      };
    });
  },
};

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
