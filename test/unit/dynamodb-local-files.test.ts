import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DYNALITE_ONLY, ON_DYNAMODB_LOCAL } from '../../scripts/build/test-dynamodb-local.ts';

const integrationFiles = readdirSync('test/integration')
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => `test/integration/${name}`)
  .sort();

describe('scripts/build/test-dynamodb-local.ts', () => {
  it('puts every integration file in exactly one list, and lists no file that is not there', () => {
    const listed = [...Object.keys(ON_DYNAMODB_LOCAL), ...Object.keys(DYNALITE_ONLY)];
    expect(
      listed.filter((file) => Object.hasOwn(ON_DYNAMODB_LOCAL, file) && Object.hasOwn(DYNALITE_ONLY, file)),
    ).toEqual([]);
    expect([...listed].sort()).toEqual(integrationFiles);
  });

  it('gives every file the reason it is in its list', () => {
    for (const [file, why] of Object.entries({ ...ON_DYNAMODB_LOCAL, ...DYNALITE_ONLY })) {
      expect(why.trim().length, file).toBeGreaterThan(10);
    }
  });

  it('names files that select only themselves (vitest takes each as a substring filter)', () => {
    for (const file of Object.keys(ON_DYNAMODB_LOCAL)) {
      expect(
        integrationFiles.filter((other) => other.includes(file)),
        file,
      ).toEqual([file]);
    }
  });
});
