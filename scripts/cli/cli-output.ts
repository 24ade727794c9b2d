import type { CheckReport, UserStatus } from '#lib/check/report.ts';
import type { StoredResult } from '#lib/history/history-store.ts';

/** Exit codes of `npm run check`: 0 all valid, 1 any invalid or unknown to Gong, 2 any failure. */
export function exitCodeOf(report: CheckReport): 0 | 1 | 2 {
  if (report.failures.length > 0) return 2;
  return report.results.every((result) => result.status === 'OK') ? 0 : 1;
}

/**
 * Emails from a text file, stdin or the arguments: one per line, or separated by commas,
 * semicolons or spaces; `#` starts a comment. A CSV with a header uses its email column.
 */
export function emailsFromText(text: string, format: 'text' | 'csv' = 'text'): string[] {
  if (format === 'csv') return emailsFromCsv(text);
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(/[\s,;]+/))
    .map((entry) => unquote(entry))
    .filter((entry) => entry !== '');
}

function emailsFromCsv(text: string): string[] {
  const rows = text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map(csvCells);
  const header = rows[0] ?? [];
  const column = header.findIndex((cell) => /^e-?mail( address)?$/i.test(cell.trim()));
  if (column >= 0) {
    return rows
      .slice(1)
      .map((row) => (row[column] ?? '').trim())
      .filter((cell) => cell !== '');
  }
  // No email header: every cell that looks like an address (a list exported without headers).
  return rows
    .flat()
    .map((cell) => cell.trim())
    .filter((cell) => cell.includes('@'));
}

/** One CSV line's cells (RFC 4180 quoting; fields do not span lines in email lists). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      cells.push(cell);
      cell = '';
    } else cell += char;
  }
  cells.push(cell);
  return cells;
}

function unquote(entry: string): string {
  return entry.replace(/^["'<]+|["'>]+$/g, '');
}

type Paint = (text: string) => string;
interface Palette {
  bold: Paint;
  dim: Paint;
  status: (status: UserStatus | 'FAILED') => Paint;
}

/** ANSI colours when `color`, else the text as it is. */
function palette(color: boolean): Palette {
  const sgr = (code: string): Paint => (color ? (text) => `\x1b[${code}m${text}\x1b[0m` : (text) => text);
  const byStatus: Record<UserStatus | 'FAILED', Paint> = {
    OK: sgr('32'),
    INVALID: sgr('31'),
    NOT_IN_GONG: sgr('33'),
    FAILED: sgr('35'),
  };
  return { bold: sgr('1'), dim: sgr('2'), status: (status) => byStatus[status] };
}

/** Lays out rows in aligned columns; `paint` colours a cell after padding, so widths stay right. */
function table(
  header: string[],
  rows: string[][],
  paint: Palette,
  colour?: (row: number, col: number) => Paint,
) {
  const widths = header.map((title, col) =>
    Math.max(title.length, ...rows.map((row) => (row[col] ?? '').length)),
  );
  const line = (cells: string[], paintCell: (col: number) => Paint) =>
    cells
      .map((cell, col) => paintCell(col)(col === cells.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    line(header, () => paint.bold),
    ...rows.map((row, index) => line(row, (col) => colour?.(index, col) ?? ((text) => text))),
  ];
}

/** The check report as a readable table: status, email, Gong's message, fix link; then the summary. */
export function renderReport(report: CheckReport, options: { color: boolean }): string {
  const paint = palette(options.color);
  const rows: { status: UserStatus | 'FAILED'; cells: string[] }[] = [];
  for (const result of report.results) {
    const message =
      result.userFacingError ?? (result.status === 'NOT_IN_GONG' ? 'Gong does not know this email' : '');
    rows.push({
      status: result.status,
      cells: [`${result.status}${result.changed ? '*' : ''}`, result.email, message, result.fixUrl ?? ''],
    });
  }
  for (const failure of report.failures) {
    rows.push({
      status: 'FAILED',
      cells: ['FAILED', failure.email, `${failure.code}: ${failure.message}`, ''],
    });
  }
  const lines = table(
    ['STATUS', 'EMAIL', 'MESSAGE', 'FIX'],
    rows.map((row) => row.cells),
    paint,
    (index, col) => (col === 0 ? paint.status(rows[index]?.status ?? 'FAILED') : (text) => text),
  );
  const { summary } = report;
  lines.push('');
  lines.push(
    `${summary.total} checked: ${summary.valid} valid, ${summary.invalid} invalid, ${summary.notFound} not in Gong, ${summary.failed} failed`,
  );
  if (report.results.some((result) => result.changed))
    lines.push(paint.dim('* changed since the last check'));
  return `${lines.join('\n')}\n`;
}

/** A user's stored checks, newest first. */
export function renderHistory(email: string, items: StoredResult[], options: { color: boolean }): string {
  const paint = palette(options.color);
  const lines = [
    `${paint.bold(email)}: ${items.length} check${items.length === 1 ? '' : 's'}, newest first`,
    '',
  ];
  lines.push(
    ...table(
      ['CHECKED AT', 'STATUS', 'SOURCE', 'MESSAGE', 'FIX'],
      items.map((item) => [
        item.checkedAt,
        item.status,
        item.source,
        item.userFacingError ?? '',
        item.fixUrl ?? '',
      ]),
      paint,
      (index, col) => (col === 1 ? paint.status(items[index]?.status ?? 'FAILED') : (text) => text),
    ),
  );
  return `${lines.join('\n')}\n`;
}

/** "3 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * A progress line for long checks (more than one Gong call): calls done of total and an ETA.
 * On a terminal it rewrites one line; elsewhere it prints a line per tenth of the work.
 */
export function createProgress(options: {
  emails: number;
  stream: { write(text: string): unknown; isTTY?: boolean };
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const { stream } = options;
  const enabled = options.emails > 100;
  let lastTenth = -1;
  let drawn = false;
  return {
    onBatchDone(done: number, total: number): void {
      if (!enabled) return;
      const elapsed = now() - startedAt;
      const eta = done === 0 ? '' : `, ETA ${formatDuration((elapsed / done) * (total - done))}`;
      const text = `checking ${options.emails} emails: calls ${done}/${total}${done < total ? eta : ''}`;
      if (stream.isTTY) {
        stream.write(`\r\x1b[K${text}`);
        drawn = true;
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stream.write(`${text}\n`);
      }
    },
    finish(): void {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
