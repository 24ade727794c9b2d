import { vi } from 'vitest';

/**
 * Runs `act` with what it writes to `stream` held back from the terminal; returns its outcome and
 * the non-empty lines written (Powertools prints its EMF metrics to stdout, its warnings to stderr,
 * one JSON object a line).
 */
export async function linesPrinted<T>(
  stream: NodeJS.WriteStream,
  act: () => Promise<T>,
): Promise<{ result: T; lines: string[] }> {
  const written: string[] = [];
  const spy = vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    const result = await act();
    return {
      result,
      lines: written
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    };
  } finally {
    spy.mockRestore();
  }
}
