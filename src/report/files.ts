/**
 * The files of a report folder, rendered in memory: per chart `<metric>.svg` and
 * `<metric>.vl.json`, then `data.csv` (one row per mark) and `index.html`. Writing them is
 * ./folder.ts's job.
 */
import { stringify } from 'csv-stringify/sync';
import type { SweepCounts } from '../store/store.js';
import { chartSpec, renderSvg } from './chart.js';
import { reportPage, type PageInput } from './page.js';
import type { ReportPlan } from './plan.js';

/** A metric's file name stem (anything but `A-Za-z0-9_.-` becomes `_`). */
function stem(metric: string): string {
  return metric.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** The SVG file of a metric's chart. */
export function chartFile(metric: string): string {
  return `${stem(metric)}.svg`;
}

/** Every file name a report of `plan` writes. */
export function reportFileNames(plan: ReportPlan): string[] {
  return [...plan.charts.flatMap((ch) => [chartFile(ch.metric), `${stem(ch.metric)}.vl.json`]), 'data.csv', 'index.html'];
}

/** ±∞ as `inf` / `-inf` in CSV labels, as `query` and `export` print them. */
function csvLabel(s: string): string {
  return s.replace(/-?∞/g, (m) => (m === '∞' ? 'inf' : '-inf'));
}

/**
 * Render every file of a report. `notes` go under each chart title and on the page.
 * @returns files in the order of {@link reportFileNames}.
 */
export async function reportFiles(
  plan: ReportPlan,
  page: Omit<PageInput, 'plan' | 'svgs'> & { counts: SweepCounts },
): Promise<{ name: string; content: string }[]> {
  const files: { name: string; content: string }[] = [];
  const svgs: { file: string; svg: string }[] = [];
  for (const chart of plan.charts) {
    const vl = chartSpec(chart, page.notes);
    const svg = await renderSvg(vl);
    files.push({ name: chartFile(chart.metric), content: svg }, { name: `${stem(chart.metric)}.vl.json`, content: JSON.stringify(vl, null, 2) + '\n' });
    svgs.push({ file: chartFile(chart.metric), svg });
  }
  const rows = plan.charts.flatMap((ch) => ch.points.map((q) => [ch.metric, ch.x, q.x, ch.color ?? '', csvLabel(q.color), csvLabel(q.panel), q.mean, q.min, q.max, q.n]));
  files.push({ name: 'data.csv', content: stringify(rows, { header: true, columns: ['metric', 'x_axis', 'x', 'color_axis', 'color', 'panel', 'mean', 'min', 'max', 'n'] }) });
  files.push({ name: 'index.html', content: reportPage({ ...page, plan, svgs }) });
  return files;
}
