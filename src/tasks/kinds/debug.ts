/**
 * `kind: debug`: engine self-tests and benchmarks (fault injection, overhead), no science and no
 * data; the task code and its params are in `tasks/debug.ts`.
 */
import type { PointKind } from './kind.js';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export const debugKind: PointKind = {
  name: 'debug',
  doc: 'engine self-tests: fault injection and overhead benchmarks (no science)',
  version: 1,
  required: [],
  needsData: false,
  execution: 'each',
  report: { metrics: [], x: [], color: [] },
  /** The busy-wait `sleep_ms`, in seconds. */
  cost: (p) => Number(p.sleep_ms ?? 0) / 1e3,
  /** What the point declares with `mem_mb` (tests of the memory budget); nothing is allocated. */
  memoryBytes: (p) => num(p.mem_mb) * 2 ** 20,
  load: async () => (await import('../debug.js')).runDebugTask,
};
