/** `ntk-sweep doctor`: what this machine gives ntk-sweep (linear-algebra backend, threads, versions). */
import { availableParallelism } from 'node:os';
import type { Argv } from 'yargs';
import { describeLinalg } from '../../linalg/select.js';

export function registerDoctor(y: Argv): Argv {
  return y.command<{ json: boolean }>(
    'doctor',
    'Show the active linear-algebra backend, BLAS threads, cores and versions',
    (c) => c.option('json', { type: 'boolean', default: false }),
    (a) => {
      const info = { node: process.version, cores: availableParallelism(), ...describeLinalg() };
      if (a.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      else for (const [k, v] of Object.entries(info)) process.stdout.write(`${k.padEnd(16)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
    },
  );
}
