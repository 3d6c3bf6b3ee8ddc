/**
 * Tick values and labels of a chart's axes, computed here rather than left to Vega so that the
 * rules hold on every chart: a log axis is labelled at decades (1-2-5 steps when fewer than three
 * decades fall inside it) with light unlabelled minor ticks at 2…9 × 10^k, a linear axis is
 * labelled at both ends, and no two labels touch (labels that would are dropped, and their ticks
 * stay as minor ticks).
 */
import { scaleLinear } from 'd3-scale';

/** Ticks of one axis: `domain` is the scale's domain; `labels[i]` belongs to `major[i]`. */
export interface AxisTicks {
  domain: [number, number];
  major: number[];
  labels: string[];
  minor: number[];
  /** End labels aligned with the axis ends (x axes) rather than centred on their ticks (y axes). */
  flush: boolean;
}

/** Approximate pixel width of a label at 10 px sans-serif (what Vega's headless renderer assumes). */
export function labelWidth(label: string): number {
  return 6 * label.length;
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** `k × 10^e` as a label: a plain number between 0.001 and 99,999 (`0.02`, `5,000`), else `2×10⁻⁸`, `10¹²`. */
export function powerLabel(k: number, e: number): string {
  if (e >= -3 && e <= 4) return (k * 10 ** e).toLocaleString('en-US', { maximumFractionDigits: 3 });
  const power = `10${String(e).replace(/[-0-9]/g, (c) => SUPERSCRIPT[c])}`;
  return k === 1 ? power : `${k}×${power}`;
}

/** `k·10^e` without the rounding of `k * 10 ** e` for negative e (`3 * 10 ** -1` is 0.30000000000000004). */
function power(k: number, e: number): number {
  return e < 0 ? k / 10 ** -e : k * 10 ** e;
}

/**
 * Drop labels that would come closer than `gap` px to a neighbour; their ticks stay as minor
 * ticks. A label is centred on its tick, but with `t.flush` kept inside the axis (Vega's
 * `labelFlush`); the first and the last label are kept first, then the inner ones from the left.
 */
function dropColliding(t: AxisTicks, px: (v: number) => number, lengthPx: number, extent: (label: string) => number, gap: number): AxisTicks {
  const span = (i: number): [number, number] => {
    const w = extent(t.labels[i]);
    const left = t.flush ? Math.min(Math.max(px(t.major[i]) - w / 2, 0), lengthPx - w) : px(t.major[i]) - w / 2;
    return [left, left + w];
  };
  const n = t.major.length;
  const keep = new Set<number>(n ? [0] : []);
  if (n > 1 && span(n - 1)[0] >= span(0)[1] + gap) keep.add(n - 1);
  const limit = keep.has(n - 1) ? span(n - 1)[0] - gap : lengthPx;
  let edge = n ? span(0)[1] : 0;
  for (let i = 1; i < n - 1; i++) {
    if (span(i)[0] >= edge + gap && span(i)[1] <= limit) {
      keep.add(i);
      edge = span(i)[1];
    }
  }
  const kept = t.major.map((_, i) => i).filter((i) => keep.has(i));
  const minor = [...t.minor, ...t.major.filter((_, i) => !keep.has(i))].sort((a, b) => a - b);
  return { ...t, major: kept.map((i) => t.major[i]), labels: kept.map((i) => t.labels[i]), minor };
}

/**
 * A log axis over the positive values `values`, `lengthPx` long. The y axis (`nice`) extends to
 * the enclosing decades (under three decades: the enclosing 1-2-5 values); the x axis keeps the
 * values' extent, its ends being grid values.
 * Majors: with fewer than three decades inside, the 1-2-5 values if their labels fit; else every
 * decade, or every k-th (evenly spaced, the smallest k whose labels keep clear of each other);
 * else the ends. Minor ticks at 2…9 × 10^k while a decade is at least 40 px long, and at every
 * unlabelled decade.
 * `vertical`: labels are stacked (12 px each) rather than side by side.
 */
export function logTicks(values: number[], lengthPx: number, opts: { nice: boolean; vertical: boolean }): AxisTicks {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (opts.nice && hi / lo >= 1000) {
    lo = 10 ** Math.floor(Math.log10(lo) + 1e-12);
    hi = 10 ** Math.ceil(Math.log10(hi) - 1e-12);
  } else if (opts.nice) {
    // under three decades: out to the enclosing 1-2-5 values (0.01…0.1, not 0.001…0.1)
    const e = (v: number): number => Math.floor(Math.log10(v) + 1e-12);
    lo = [5, 2, 1].map((k) => power(k, e(lo))).find((v) => v <= lo * (1 + 1e-12)) ?? power(1, e(lo));
    hi = [1, 2, 5, 10].map((k) => power(k, e(hi))).find((v) => v >= hi * (1 - 1e-12)) ?? power(10, e(hi));
  }
  if (lo === hi) hi = lo * 10;
  const inside = (v: number): boolean => v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12);
  const e0 = Math.floor(Math.log10(lo)) - 1;
  const e1 = Math.ceil(Math.log10(hi)) + 1;
  const all: { v: number; k: number; e: number }[] = [];
  for (let e = e0; e <= e1; e++) for (let k = 1; k <= 9; k++) if (inside(power(k, e))) all.push({ v: power(k, e), k, e });
  const decadePx = lengthPx / Math.max(Math.log10(hi / lo), 1e-9);
  const px = (v: number): number => (Math.log(v / lo) / Math.log(hi / lo)) * lengthPx;
  const ticksOf = (major: typeof all): AxisTicks => {
    const isMajor = new Set(major.map((m) => m.v));
    // minor ticks at 2…9 × 10^k while a decade is 40 px or more; always at unlabelled decades
    const minor = all.filter((t) => !isMajor.has(t.v) && (t.k === 1 || decadePx >= 40)).map((t) => t.v);
    return { domain: [lo, hi], major: major.map((m) => m.v), labels: major.map((m) => powerLabel(m.k, m.e)), minor, flush: !opts.vertical };
  };
  const thinned = (t: AxisTicks): AxisTicks => dropColliding(t, px, lengthPx, opts.vertical ? () => 12 : labelWidth, opts.vertical ? 2 : 8);
  const fit = (major: typeof all): AxisTicks | null => (major.length >= 2 && thinned(ticksOf(major)).major.length === major.length ? ticksOf(major) : null);
  const decades = all.filter((t) => t.k === 1);
  if (decades.length < 3) {
    const oneTwoFive = fit(all.filter((t) => t.k === 1 || t.k === 2 || t.k === 5));
    if (oneTwoFive) return oneTwoFive;
  }
  // every decade, or every k-th (those with e divisible by k, so 1 stays labelled): evenly spaced
  for (let k = 1; k <= decades.length; k++) {
    const t = fit(decades.filter((d) => d.e % k === 0));
    if (t) return t;
  }
  const ends: AxisTicks = { ...ticksOf([]), major: [lo, hi], labels: [lo, hi].map((v) => v.toLocaleString('en-US', { maximumSignificantDigits: 4 })) };
  return thinned(ends);
}

/**
 * A linear y axis over `values`: the domain widened to round numbers (d3's `nice`, about five
 * ticks), so that both ends carry a label, and d3's labels for them.
 */
export function linearTicks(values: number[]): AxisTicks {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const scale = scaleLinear().domain([lo, hi]).nice(5);
  const major = scale.ticks(5);
  const format = scale.tickFormat(5);
  const [a, b] = scale.domain();
  return { domain: [a, b], major, labels: major.map(format), minor: [], flush: false };
}

/**
 * A linear x axis over grid values: their extent, labelled at both ends and at every grid value
 * in between whose label keeps clear of its neighbours (up to 12 values; beyond, d3's round
 * numbers). `lengthPx`: the axis length.
 */
export function gridTicks(values: number[], lengthPx: number): AxisTicks {
  const xs = [...new Set(values)].sort((a, b) => a - b);
  const lo = xs[0];
  const hi = xs[xs.length - 1];
  const label = (v: number): string => v.toLocaleString('en-US', { maximumSignificantDigits: 6 });
  if (lo === hi) return { domain: [lo - 1, hi + 1], major: [lo], labels: [label(lo)], minor: [], flush: true };
  const inner = xs.length <= 12 ? xs.slice(1, -1) : scaleLinear().domain([lo, hi]).ticks(6).filter((v) => v > lo && v < hi);
  const major = [lo, ...inner, hi];
  const px = (v: number): number => ((v - lo) / (hi - lo)) * lengthPx;
  return dropColliding({ domain: [lo, hi], major, labels: major.map(label), minor: [], flush: true }, px, lengthPx, labelWidth, 8);
}

/**
 * The Vega-Lite `axis` of these ticks: every tick at its value, labels only on the majors (the
 * minors get a shorter tick and a lighter grid line), Vega's own label thinning off (the ticks
 * are already chosen not to collide), and on x axes the end labels kept inside the axis.
 */
export function axisSpec(t: AxisTicks): object {
  const values = [...t.major, ...t.minor].sort((a, b) => a - b);
  const labelExpr = t.major.reduceRight((rest, v, i) => `datum.value === ${JSON.stringify(v)} ? ${JSON.stringify(t.labels[i])} : ${rest}`, "''");
  const isMajor = `indexof(${JSON.stringify(t.major)}, datum.value) >= 0`;
  return {
    values,
    labelExpr,
    labelOverlap: false,
    labelFlush: t.flush,
    tickSize: { condition: { test: isMajor, value: 5 }, value: 2 },
    gridOpacity: { condition: { test: isMajor, value: 1 }, value: 0.45 },
  };
}
