/**
 * Progress display for a run: a `cli-progress` bar (done/total, rate, ETA from the finished
 * points; see {@link estimateEta}) on an interactive
 * terminal, plain periodic lines otherwise (CI logs, pipes). Writes to stderr so `--json` output
 * on stdout stays machine-readable.
 */
import cliProgress from 'cli-progress';

export interface ProgressSink {
  start(total: number, alreadyDone: number): void;
  /**
   * `done` counts finished grid points (done, failed, diverged) including those done before;
   * `partial` is the summed completed fraction of running points (for rate and ETA only).
   */
  update(done: number, note?: string, partial?: number): void;
  stop(): void;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The ETA waits for this many grid points finished by this run... */
export const ETA_MIN_POINTS = 3;
/** ...and this many seconds of it: before that, a rate says little (start-up, the first batch). */
export const ETA_MIN_S = 5;

/**
 * Rate (points/s) and ETA (s) from the work finished in this run only: `done − startDone`
 * points in `elapsedS` seconds, the rest at that pace. The fractions that running points report
 * are left out: they move unevenly (a kernel batch reports its depths in bursts), and from them
 * a first ETA read 50 minutes for a run of 91 s. NaN (shown as `?`) until
 * {@link ETA_MIN_POINTS} points and {@link ETA_MIN_S} seconds.
 */
export function estimateEta(done: number, total: number, startDone: number, elapsedS: number): { rate: number; eta: number } {
  const finished = done - startDone;
  const rate = elapsedS > 0 ? finished / elapsedS : 0;
  if (finished < ETA_MIN_POINTS || elapsedS < ETA_MIN_S || rate <= 0) return { rate, eta: done >= total ? 0 : NaN };
  return { rate, eta: Math.max(0, total - done) / rate };
}

/** Silent sink (for `--quiet`, `--json` without a TTY, tests). */
export const nullProgress: ProgressSink = { start() {}, update() {}, stop() {} };

/** Pick a bar when stderr is a TTY, plain lines every `intervalS` seconds otherwise. */
export function makeProgress(opts: { tty?: boolean; intervalS?: number } = {}): ProgressSink {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  let total = 0;
  let startDone = 0;
  let t0 = 0;
  let last = 0;
  let lastDone = -1;
  const rateEta = (done: number, _partial = 0): { rate: number; eta: number } => estimateEta(done, total, startDone, (Date.now() - t0) / 1000);
  if (tty) {
    let stopped = false;
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: ' {bar} {value}/{total} grid points | {rate}/s | elapsed {elapsedS} | ETA {etaS} {note}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    return {
      start(n, already) {
        total = n;
        startDone = already;
        t0 = Date.now();
        bar.start(n, already, { rate: '0.0', etaS: '?', elapsedS: '0s', note: '' });
      },
      update(done, note, partial) {
        if (stopped) return;
        const { rate, eta } = rateEta(done, partial);
        bar.update(done, { rate: rate.toFixed(rate < 10 ? 2 : 0), etaS: fmtDuration(eta), elapsedS: fmtDuration((Date.now() - t0) / 1000), note: note ?? '' });
      },
      stop() {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  const every = (opts.intervalS ?? 10) * 1000;
  const line = (done: number, note?: string, partial?: number): void => {
    const { rate, eta } = rateEta(done, partial);
    const pct = total ? ((100 * done) / total).toFixed(0) : '100';
    process.stderr.write(`[ntk-sweep] ${done}/${total} grid points (${pct}%), ${rate.toFixed(2)}/s, elapsed ${fmtDuration((Date.now() - t0) / 1000)}, ETA ${fmtDuration(eta)}${note ? ' ' + note : ''}\n`);
  };
  return {
    start(n, already) {
      total = n;
      startDone = already;
      t0 = Date.now();
      last = Date.now();
    },
    update(done, note, partial) {
      if (Date.now() - last >= every || (done === total && done !== lastDone)) {
        last = Date.now();
        lastDone = done;
        line(done, note, partial);
      }
    },
    stop() {},
  };
}
