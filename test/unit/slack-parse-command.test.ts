import { describe, expect, it } from 'vitest';
import { ValidationError } from '#lib/errors/errors.ts';
import { parseCommand } from '#lib/slack/parse-command.ts';

describe('parseCommand', () => {
  it('returns the caller themself when the text is empty or blank', () => {
    expect(parseCommand('')).toEqual({ kind: 'self' });
    expect(parseCommand('   ')).toEqual({ kind: 'self' });
  });

  it('returns help whatever follows it, in any case', () => {
    expect(parseCommand('help')).toEqual({ kind: 'help' });
    expect(parseCommand('HELP me')).toEqual({ kind: 'help' });
  });

  it('returns typed emails normalised, de-duplicated, in order', () => {
    expect(parseCommand('Ada@Example.com  grace@example.com,ada@example.com')).toEqual({
      kind: 'check',
      targets: [
        { kind: 'email', email: 'ada@example.com' },
        { kind: 'email', email: 'grace@example.com' },
      ],
      skipped: [],
    });
  });

  it('unwraps Slack mailto links and user mentions', () => {
    expect(parseCommand('<mailto:Ada@Example.com|Ada@Example.com> <@U123ABC|grace> <@W0ENT>')).toEqual({
      kind: 'check',
      targets: [
        { kind: 'email', email: 'ada@example.com' },
        { kind: 'user', userId: 'U123ABC' },
        { kind: 'user', userId: 'W0ENT' },
      ],
      skipped: [],
    });
  });

  it('keeps a mention whose label has spaces as one token', () => {
    expect(parseCommand('<@U123ABC|Grace Hopper> ada@example.com')).toMatchObject({
      targets: [
        { kind: 'user', userId: 'U123ABC' },
        { kind: 'email', email: 'ada@example.com' },
      ],
    });
  });

  it('returns the valid targets and names the skipped tokens when some are not emails or mentions', () => {
    expect(parseCommand('ada@example.com bob <#C123|general> @grace')).toEqual({
      kind: 'check',
      targets: [{ kind: 'email', email: 'ada@example.com' }],
      skipped: ['bob', '<#C123|general>', '@grace'],
    });
  });

  it('throws a ValidationError naming the tokens when none is valid', () => {
    expect(() => parseCommand('bob not-an-email')).toThrow(ValidationError);
    expect(() => parseCommand('bob not-an-email')).toThrow(/`bob`, `not-an-email`/);
  });

  it('throws when more than 100 distinct users are named, and accepts exactly 100', () => {
    const emails = (n: number) => Array.from({ length: n }, (_, i) => `user${i}@example.com`).join(' ');
    expect(parseCommand(emails(100))).toMatchObject({ kind: 'check' });
    expect(() => parseCommand(emails(101))).toThrow(/101 users; one command checks at most 100/);
  });

  it('returns history with its one target, email or mention', () => {
    expect(parseCommand('history grace@example.com')).toEqual({
      kind: 'history',
      target: { kind: 'email', email: 'grace@example.com' },
    });
    expect(parseCommand('History <@U0GRACE|grace>')).toEqual({
      kind: 'history',
      target: { kind: 'user', userId: 'U0GRACE' },
    });
  });

  it('throws when history has no target, two, or a bad one', () => {
    expect(() => parseCommand('history')).toThrow(/takes one email/);
    expect(() => parseCommand('history a@example.com b@example.com')).toThrow(/takes one email/);
    expect(() => parseCommand('history bob')).toThrow(/takes one email/);
  });

  it('returns team, and refuses arguments after it', () => {
    expect(parseCommand('team')).toEqual({ kind: 'team' });
    expect(() => parseCommand('team all')).toThrow(/no arguments/);
  });
});
