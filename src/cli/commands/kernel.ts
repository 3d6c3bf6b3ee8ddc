/**
 * `ntk-sweep kernel`: the Gram matrix of the points in a CSV file at one depth, for quick looks
 * and cross-checks against other tools. Points are used as given (no centering or projection);
 * columns named `label` and `split` are ignored.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import type { Activation, KernelName } from '../../ntk/index.js';
import { ALL_ACTIVATION_NAMES } from '../../ntk/activations.js';
import { badOption, CliError, EXIT } from '../exit.js';

interface KernelArgs {
  data: string;
  depth: number;
  kernel: KernelName;
  normalized: boolean;
  format: 'json' | 'csv';
  'sigma-w': number;
  'sigma-b': number;
  activation: string;
  'activation-alpha'?: number;
}

/**
 * Read a numeric CSV (header optional) into row-major `[n, d]`, with the file line of each row.
 * @throws CliError naming line and column.
 */
export function readPointsCsv(file: string): { x: Float64Array; n: number; d: number; lines: number[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read --data ${file}: ${(e as Error).message}`, EXIT.USAGE);
  }
  let records: { record: string[]; info: { lines: number } }[];
  // csv-parse is loaded on use (its CommonJS build, synchronously): `--help` does not load it
  const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync');
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, info: true }) as unknown as typeof records;
  } catch (e) {
    throw new CliError(`${file}: not a valid CSV: ${(e as Error).message}`, EXIT.USAGE);
  }
  if (records.length === 0) throw new CliError(`${file}: no rows`, EXIT.USAGE);
  const rows = records.map((r) => r.record);
  const lines = records.map((r) => r.info.lines);
  const header = rows[0].some((c) => c !== '' && Number.isNaN(Number(c))) ? rows.shift()! : null;
  if (header) lines.shift();
  const keep = rows[0].map((_, j) => !header || !['label', 'split'].includes(header[j].toLowerCase()));
  const d = keep.filter(Boolean).length;
  const n = rows.length;
  if (n === 0 || d === 0) throw new CliError(`${file}: no data rows or no feature columns`, EXIT.USAGE);
  const x = new Float64Array(n * d);
  rows.forEach((r, i) => {
    if (r.length !== keep.length) throw new CliError(`${file}: line ${lines[i]} has ${r.length} columns, expected ${keep.length}`, EXIT.USAGE);
    let c = 0;
    r.forEach((cell, j) => {
      if (!keep[j]) return;
      const v = Number(cell);
      if (cell === '' || !Number.isFinite(v)) {
        throw new CliError(`${file}: line ${lines[i]}, column ${header ? header[j] : j + 1}: not a finite number: "${cell}"`, EXIT.USAGE);
      }
      x[i * d + c++] = v;
    });
  });
  return { x, n, d, lines };
}

export function registerKernel(y: Argv): Argv {
  return y.command<KernelArgs>(
    'kernel',
    'Print the NTK/NNGP/correlation Gram matrix of the points in a CSV at one depth',
    (c) =>
      c
        .option('data', { type: 'string', demandOption: true, describe: 'CSV of points, one per row (header optional; label/split columns ignored)' })
        .option('depth', { type: 'number', demandOption: true, describe: 'Depth L (number of weight layers, 1 = linear)' })
        .option('kernel', { choices: ['ntk', 'nngp', 'rho'] as const, default: 'ntk' as KernelName, describe: 'ntk = Θ, nngp = Σ, rho = correlation ρ = Σ̄' })
        .option('normalized', { type: 'boolean', default: false, describe: 'Unit-diagonal form K(x,x\')/sqrt(K(x,x)K(x\',x\')) (never underflows)' })
        .option('sigma-w', { type: 'number', default: 1, describe: 'σ_w' })
        .option('sigma-b', { type: 'number', default: 0, describe: 'σ_b' })
        .option('activation', { type: 'string', default: 'relu', describe: `activation φ of the hidden layers: ${ALL_ACTIVATION_NAMES.join(', ')}, or an expression in x (quoted), e.g. "x * tanh(log(1 + exp(x)))" (duals by quadrature)` })
        .option('activation-alpha', { type: 'number', describe: 'leaky_relu: slope for x < 0 (required with leaky_relu)' })
        .option('format', { choices: ['json', 'csv'] as const, default: 'csv' as 'json' | 'csv' })
        .example('$0 kernel --data points.csv --depth 10 --normalized', 'normalized NTK at depth 10')
        .epilog(
          'Formulas (Σ¹ = σ_w² x·x\'/d + σ_b², Σ^{l+1} = σ_w² E[φ(u)φ(v)] + σ_b², Θ^{l+1} = Θ^l Σ̇^{l+1} + Σ^{l+1}; ' +
            'dual maps of --activation (closed forms, or quadrature for the others), see the README section "Activations and depth"). ' +
            'Absolute values underflow for deep nets (Θ^L(x,x) = L/(d 2^{L-1}) for unit ReLU x): use --normalized there. ' +
            'Numbers are printed with full float64 precision.',
        ),
    async (a) => {
      const { activationOf, kernelFold, kernelMatrix } = await import('../../ntk/index.js');
      if (!Number.isInteger(a.depth) || a.depth < 1) throw badOption('--depth', 'a positive integer', a.depth);
      if (!(a['sigma-w'] > 0)) throw badOption('--sigma-w', 'a positive number', a['sigma-w']);
      if (!(a['sigma-b'] >= 0)) throw badOption('--sigma-b', 'a non-negative number', a['sigma-b']);
      let activation: Activation;
      try {
        activation = activationOf(a.activation, { activation_alpha: a['activation-alpha'] });
      } catch (e) {
        throw new CliError(`--activation: ${(e as Error).message}`, EXIT.USAGE);
      }
      if (a.kernel === 'ntk' && !activation.has_ntk) {
        throw new CliError(`--kernel ntk: activation ${activation.name} has no NTK (its derivative is a Dirac delta); use --kernel nngp or rho`, EXIT.USAGE);
      }
      const { x, n, d, lines } = readPointsCsv(a.data);
      if (a['sigma-b'] === 0) {
        const zero = Array.from({ length: n }, (_, i) => i).find((i) => x.subarray(i * d, (i + 1) * d).every((v) => v === 0));
        if (zero !== undefined) {
          throw new CliError(`${a.data}, line ${lines[zero]}: the point is all zeros; with σ_b = 0 its kernel is 0 and its angle to any point undefined (remove it, or give --sigma-b > 0)`, EXIT.USAGE);
        }
      }
      let gram: Float64Array | null = null;
      kernelFold(x, n, d, { sigma_w: a['sigma-w'], sigma_b: a['sigma-b'], activation, depths: [a.depth], ntk: a.kernel === 'ntk' }, (_L, state) => {
        gram = kernelMatrix(state, a.kernel, a.normalized ? 'normalized' : 'absolute');
      });
      const g = gram as unknown as Float64Array;
      if (!a.normalized) {
        const zeros = Array.from({ length: n }, (_, i) => g[i * n + i]).filter((v) => v === 0 || !Number.isFinite(v)).length;
        if (zeros > 0) {
          process.stderr.write(
            `warning: ${zeros} of ${n} diagonal entries are ${g.some((v) => !Number.isFinite(v)) ? 'out of float64 range' : '0'}: the absolute kernel underflows or overflows at depth ${a.depth}; --normalized gives the unit-diagonal form, which never does\n`,
          );
        }
      }
      const rows: number[][] = [];
      for (let i = 0; i < n; i++) rows.push(Array.from(g.subarray(i * n, (i + 1) * n)));
      if (a.format === 'json') {
        process.stdout.write(JSON.stringify({ kernel: a.kernel, activation: activation.name, ...activation.params, depth: a.depth, normalized: a.normalized, sigma_w: a['sigma-w'], sigma_b: a['sigma-b'], n, d, matrix: rows }) + '\n');
      } else {
        process.stdout.write(rows.map((r) => r.map((v) => String(v)).join(',')).join('\n') + '\n');
      }
    },
  );
}
