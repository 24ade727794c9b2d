import uPlot from 'uplot';
import { recordableShare } from './timeline.ts';
import type { DailyCounts } from './types.ts';

/** The chart's columns: day (unix seconds), share recordable (%), then the three counts. */
export function trendData(days: readonly DailyCounts[]): uPlot.AlignedData {
  const x: number[] = [];
  const share: (number | null)[] = [];
  const ok: number[] = [];
  const invalid: number[] = [];
  const notInGong: number[] = [];
  for (const day of days) {
    x.push(Date.parse(`${day.date}T00:00:00Z`) / 1000);
    share.push(recordableShare(day) ?? null);
    ok.push(day.ok);
    invalid.push(day.invalid);
    notInGong.push(day.notInGong);
  }
  return [x, share, ok, invalid, notInGong];
}

/**
 * Draws the trend into `target`. Each series has its own dash pattern as well as its own colour,
 * and the legend names them, so the chart reads without colour.
 */
export function drawTrend(target: HTMLElement, days: readonly DailyCounts[], width: number): uPlot {
  const data = trendData(days);
  const first = data[0][0] ?? Date.now() / 1000;
  const last = data[0][data[0].length - 1] ?? first;
  const options: uPlot.Options = {
    width,
    height: 280,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      // At least the 90 days the trend covers, ending on the last sweep, from the data itself: for a
      // single point uPlot widens a time scale in seconds by 86,400,000 s (1,000 days), not one day.
      x: { time: true, range: () => [Math.min(first, last - 89 * 86_400), last] },
      share: { range: [0, 100] },
      count: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
    },
    axes: [
      {},
      { scale: 'share', label: 'Share recordable (%)', values: (_u, ticks) => ticks.map((t) => `${t}%`) },
      { scale: 'count', label: 'Users', side: 1, grid: { show: false } },
    ],
    series: [
      { label: 'Date', value: '{YYYY}-{MM}-{DD}' },
      {
        label: 'Share recordable',
        scale: 'share',
        stroke: '#1b5e20',
        width: 3,
        value: (_u, v) => (v == null ? '–' : `${v}%`),
      },
      { label: 'OK', scale: 'count', stroke: '#2e7d32', width: 1.5, dash: [8, 4] },
      { label: 'Invalid', scale: 'count', stroke: '#b71c1c', width: 1.5, dash: [2, 3] },
      { label: 'Not in Gong', scale: 'count', stroke: '#5d4037', width: 1.5, dash: [10, 3, 2, 3] },
    ],
  };
  return new uPlot(options, data, target);
}
