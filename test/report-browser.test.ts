/// <reference lib="dom" />
/**
 * The reports as a reader sees them: small versions of the shipped `quickstart` and `width-lazy`
 * sweeps run through the real worker pool into a real SQLite database, their reports opened in
 * headless Chromium (Debian's `chromium`, driven by playwright-core) in a 1280 × 800 window.
 * Checked in the page: no console error and no request leaving the folder, no horizontal
 * scrollbar, every chart drawn at its own size (not shrunk) with all its text, legend included,
 * inside the window, the legend entries equal to the lines of `data.csv`, and the slope labels of
 * `report --fit` equal to what `ntk-sweep slope` prints. Screenshots go to a temporary folder
 * whose path is printed. Without a Chromium that starts, the test is skipped and says why.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { parse } from 'csv-parse/sync';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };

/** The shipped quickstart, smaller: four dataset sizes (two rows of panels), six depths, the same five t. */
const QUICKSTART = `name: quickstart
kind: kernel
description: MNIST NTK regression across dataset size, depth and stopping time (small).
dataset: { name: mnist, center: true, unit_norm: true, data_seed: 0 }
fixed: { n_test: 100, kernel: ntk, sigma_w: 1, sigma_b: 0, time_scale: normalized }
grid:
  n_train: [25, 50, 100, 200]
  depth: [1, 2, 5, 10, 20, 50]
  t: [1, 10, 100, 1000, inf]
`;

/** The shipped width-lazy, smaller: widths 32…1024 (log x: ≥ 20×), depths 2 and 3, three seeds, the same t = lr·steps = 2000. */
const WIDTH_LAZY = `name: width-lazy
kind: train
description: NTK-parameterized ReLU MLPs of width 32..1024 trained with full-batch GD to t = 2000 (small).
dataset: { name: mnist, center: true, unit_norm: true, data_seed: 0 }
fixed: { n_train: 32, n_test: 16, probe: 8, sigma_w: 1, sigma_b: 0, parameterization: ntk, t: 2000, lr: 200, log_points: 4 }
grid:
  width: [32, 64, 128, 256, 512, 1024]
  depth: [2, 3]
  seed: [0, 1, 2]
derived:
  steps: "round(t / lr)"
`;

/** A fresh Chromium profile with background networking off (the closed network refuses it), or why none starts. */
async function launch(): Promise<BrowserContext | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (Debian: apt-get install chromium; .ci/run does it)`;
  try {
    return await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ntk-sweep-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: VIEWPORT,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-gpu'],
    });
  } catch (e) {
    return `${CHROMIUM} does not start: ${(e as Error).message.split('\n')[0]}`;
  }
}

interface ChartView {
  id: string;
  /** Rendered width and the SVG's own width (its `width` attribute). */
  width: number;
  naturalWidth: number;
  left: number;
  /** Right edge of the SVG and of the furthest text in it (legend, labels). */
  right: number;
  textRight: number;
  legendRight: number | null;
  legend: string[];
  texts: string[];
  fits: { series: string; label: string }[];
}

/** Open `index.html`, check the page as a whole, and describe every chart. */
async function openReport(t: TestContext, ctx: BrowserContext, index: string, shots: string, name: string): Promise<ChartView[]> {
  const page: Page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) problems.push(`request outside the report: ${r.url()}`);
  });
  await page.goto(pathToFileURL(index).href);
  const size = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const sections = await page.$$('section');
  for (const [i, s] of sections.entries()) await s.screenshot({ path: join(shots, `${name}-${i}.png`) });
  const charts = await page.$$eval('section', (els) =>
    els.map((sec) => {
      const svg = sec.querySelector('svg')!;
      const box = svg.getBoundingClientRect();
      const right = (sel: string): number => Math.max(-Infinity, ...Array.from(svg.querySelectorAll(sel)).map((e) => e.getBoundingClientRect().right));
      const legend = svg.querySelector('.role-legend');
      return {
        id: sec.id,
        width: box.width,
        naturalWidth: Number(svg.getAttribute('width')),
        left: box.left,
        right: box.right,
        textRight: right('text'),
        legendRight: legend ? legend.getBoundingClientRect().right : null,
        legend: Array.from(svg.querySelectorAll('.role-legend-label')).map((e) => e.textContent ?? ''),
        texts: Array.from(svg.querySelectorAll('text')).map((e) => e.textContent ?? ''),
        fits: Array.from(svg.querySelectorAll('.fit_label_marks text')).map((e) => ({ series: e.getAttribute('aria-label') ?? '', label: e.textContent ?? '' })),
      };
    }),
  );
  await page.close();
  assert.deepEqual(problems, [], `${name}: no console errors, nothing fetched from outside`);
  assert.ok(size.scroll <= size.client, `${name}: no horizontal scrollbar (page ${size.scroll} px wide in a ${size.client} px window)`);
  assert.ok(charts.length > 0, `${name}: charts on the page`);
  for (const c of charts) {
    assert.ok(Math.abs(c.width - c.naturalWidth) < 1, `${name}/${c.id}: drawn at its own width (${c.naturalWidth} px), not shrunk to ${c.width.toFixed(0)} px to fit`);
    assert.ok(c.left >= 0 && c.right <= size.client, `${name}/${c.id}: the chart (${c.left.toFixed(0)}–${c.right.toFixed(0)} px) inside the ${size.client} px window`);
    assert.ok(c.textRight <= size.client, `${name}/${c.id}: every label inside the window (rightmost at ${c.textRight.toFixed(0)} px)`);
    if (c.legendRight !== null) assert.ok(c.legendRight <= size.client, `${name}/${c.id}: the legend inside the window`);
  }
  t.diagnostic(`${name}: ${charts.length} chart(s) checked, screenshots in ${shots}`);
  return charts;
}

/** Per metric, the lines of data.csv (their color labels, ∞ as the page shows it), in order of first appearance. */
function csvSeries(out: string): Map<string, string[]> {
  const rows = parse(readFileSync(join(out, 'data.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  const series = new Map<string, string[]>();
  for (const r of rows) {
    const label = r.color === 'inf' ? '∞' : r.color === '-inf' ? '-∞' : r.color;
    const list = series.get(r.metric) ?? [];
    if (!list.includes(label)) list.push(label);
    series.set(r.metric, list);
  }
  return series;
}

function checkLegends(charts: ChartView[], out: string, name: string): void {
  const series = csvSeries(out);
  for (const c of charts) {
    const lines = series.get(c.id) ?? [];
    if (lines.length === 1 && lines[0] === '') {
      assert.deepEqual(c.legend, [], `${name}/${c.id}: one line, no legend`);
      assert.ok(c.texts.some((x) => x.startsWith(`one line: ${c.id} is the same at every`)), `${name}/${c.id}: a note says the lines collapsed`);
    } else {
      assert.deepEqual([...c.legend].sort(), [...lines].sort(), `${name}/${c.id}: legend entries = the lines of data.csv`);
    }
  }
}

test('reports in headless Chromium at 1280 × 800: no errors, no horizontal scroll, charts and legends inside the window, legends = data.csv lines, slopes = `slope`', async (t) => {
  const ctx = await launch();
  if (typeof ctx === 'string') {
    console.log(`# SKIP report-browser: ${ctx}`);
    t.skip(ctx);
    return;
  }
  const shots = mkdtempSync(join(tmpdir(), 'ntk-sweep-report-screenshots-'));
  console.log(`# report screenshots: ${shots}`);
  try {
    const dir = tempDir();
    const db = join(dir, 'browser.sqlite');
    for (const [name, yaml] of [['quickstart', QUICKSTART], ['width-lazy', WIDTH_LAZY]]) {
      const run = await runCli(['run', writeSpec(dir, name, yaml), '--db', db, '--quiet']);
      assert.equal(run.code, 0, run.stderr);
    }

    const qsOut = join(dir, 'reports', 'quickstart');
    const qs = await runCli(['report', 'quickstart', '--db', db, '--out', qsOut]);
    assert.equal(qs.code, 0, qs.stderr);
    const qsCharts = await openReport(t, ctx, join(qsOut, 'index.html'), shots, 'quickstart');
    checkLegends(qsCharts, qsOut, 'quickstart');
    assert.ok(qsCharts.some((c) => c.legend.includes('∞')), 'quickstart: t = ∞ is in a legend');

    const wlOut = join(dir, 'reports', 'width-lazy');
    const wl = await runCli(['report', 'width-lazy', '--db', db, '--out', wlOut, '--fit']);
    assert.equal(wl.code, 0, wl.stderr);
    const wlCharts = await openReport(t, ctx, join(wlOut, 'index.html'), shots, 'width-lazy');
    checkLegends(wlCharts, wlOut, 'width-lazy');
    const fitted = wlCharts.filter((c) => c.fits.length > 0);
    assert.ok(fitted.some((c) => c.id === 'act_dev_max') && fitted.some((c) => c.id === 'act_dev_norm'), 'the claim-1 metrics carry slopes');
    for (const c of fitted) {
      const slope = await runCli(['slope', 'width-lazy', '--db', db, '--metric', c.id, '--format', 'json']);
      assert.equal(slope.code, 0, slope.stderr);
      const rows = JSON.parse(slope.stdout) as { depth: number; slope_mean: number; slope_sd: number }[];
      assert.deepEqual(c.fits.map((f) => f.series).sort(), rows.map((r) => `depth=${r.depth}`).sort(), `${c.id}: a slope label per line`);
      for (const f of c.fits) {
        const r = rows.find((q) => `depth=${q.depth}` === f.series)!;
        const m = /^([+−]?\d+\.\d\d) ± (\d+\.\d\d)$/.exec(f.label);
        assert.ok(m, `${c.id} ${f.series}: label "${f.label}" reads "slope ± sd"`);
        const num = (s: string): number => Number(s.replace('−', '-'));
        const two = (v: number): number => Number(v.toFixed(2));
        assert.ok(Math.abs(num(m[1]) - two(r.slope_mean)) < 1e-9, `${c.id} ${f.series}: slope ${m[1]} = slope's ${r.slope_mean}`);
        assert.ok(Math.abs(num(m[2]) - two(r.slope_sd)) < 1e-9, `${c.id} ${f.series}: sd ${m[2]} = slope's ${r.slope_sd}`);
      }
    }

    // the overview: every sweep, linked to its report
    const ov = await runCli(['report', '--db', db, '--out', join(dir, 'reports')]);
    assert.equal(ov.code, 0, ov.stderr);
    const page = await ctx.newPage();
    await page.goto(pathToFileURL(join(dir, 'reports', 'index.html')).href);
    const links = await page.$$eval('a', (as) => as.map((a) => a.getAttribute('href')));
    const width = await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
    await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
    await page.close();
    assert.deepEqual(links, ['quickstart/index.html', 'width-lazy/index.html']);
    assert.ok(width, 'overview: no horizontal scrollbar');
  } finally {
    await ctx.close();
  }
});
