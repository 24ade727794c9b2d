import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTIONS } from '../../scripts/build/functions.ts';

const serverless = parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'silent' }) as {
  functions: Record<string, { handler: string }>;
};

describe('scripts/build/functions.ts', () => {
  it('names exactly the functions of serverless.yml, each built to the handler serverless.yml points at', () => {
    expect(Object.keys(FUNCTIONS).sort()).toEqual(Object.keys(serverless.functions).sort());
    for (const [name, fn] of Object.entries(serverless.functions)) {
      expect(fn.handler, name).toBe(`dist/${name}.handler`);
    }
  });

  it('builds every function from a file in functions/ named for its trigger', () => {
    for (const entry of Object.values(FUNCTIONS)) expect(entry).toMatch(/^functions\/[a-z-]+\.ts$/);
  });
});
