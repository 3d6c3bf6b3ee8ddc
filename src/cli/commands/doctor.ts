/** `ntk-sweep doctor`: what this machine gives ntk-sweep (linear-algebra backend, threads, versions). */
import { availableParallelism, totalmem } from 'node:os';
import type { Argv } from 'yargs';

export function registerDoctor(y: Argv): Argv {
  return y.command<{ json: boolean }>(
    'doctor',
    'Show the active linear-algebra backend, BLAS threads, cores, memory budget and versions',
    (c) => c.option('json', { type: 'boolean', default: false }),
    async (a) => {
      const [{ defaultMemoryBudget }, { describeLinalg }] = await Promise.all([import('../../engine/memory-budget.js'), import('../../linalg/select.js')]);
      const gib = (b: number): number => Math.round((b / 2 ** 30) * 10) / 10;
      const info = {
        node: process.version,
        cores: availableParallelism(),
        ram_gib: gib(totalmem()),
        memory_budget_gib: gib(defaultMemoryBudget()),
        ...describeLinalg(),
      };
      if (a.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      else for (const [k, v] of Object.entries(info)) process.stdout.write(`${k.padEnd(18)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
    },
  );
}
