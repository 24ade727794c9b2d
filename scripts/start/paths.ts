import { relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export const log = (line = '') => process.stdout.write(`${line}\n`);

/** A path relative to the repository when it is inside it. */
export function shortPath(path: string): string {
  const rel = relative(ROOT, path);
  return rel && !rel.startsWith('..') ? rel : path;
}
