/**
 * `kind: debug`: engine self-tests and benchmarks (fault injection, overhead), no science and no
 * data; the task code is `tasks/debug.ts`.
 */
import { z } from 'zod';
import { nonNegNum, posInt, type ParamDefs } from '../../spec/param-def.js';
import type { PointKind } from './kind.js';

/** Typed params of a debug task. */
export interface DebugTaskParams {
  /** Input number: metrics `y = x² + 1` and `sqrt_x = √x` (0 when unset). */
  x?: number;
  sleep_ms: number;
  fail: 'none' | 'throw' | 'exit' | 'oom';
  mem_mb?: number;
  fail_attempts?: number;
}

const DEBUG_PARAMS: ParamDefs = {
  x: { doc: 'debug: input number (metric y = x² + 1)', schema: z.number().finite(), expected: 'a number' },
  sleep_ms: { doc: 'debug: CPU-bound busy-wait in milliseconds', schema: nonNegNum, expected: 'a non-negative number', default: 0 },
  fail: { doc: 'debug: none | throw | exit | oom', schema: z.enum(['none', 'throw', 'exit', 'oom']), expected: 'none, throw, exit or oom', default: 'none' },
  mem_mb: { doc: 'debug: memory the grid point declares it needs (MiB), for tests of the memory budget; nothing is allocated', schema: nonNegNum, expected: 'a non-negative number' },
  fail_attempts: { doc: 'debug: fail only on the first this many attempts, then succeed (unset: every attempt)', schema: posInt, expected: 'a positive integer' },
};

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export const debugKind: PointKind<DebugTaskParams> = {
  name: 'debug',
  doc: 'engine self-tests: fault injection and overhead benchmarks (no science)',
  version: 1,
  sharedParams: [],
  params: DEBUG_PARAMS,
  required: [],
  needsData: false,
  execution: 'each',
  report: { metrics: [], x: [], color: [] },
  /** The busy-wait `sleep_ms`, in seconds. */
  cost: (p) => Number(p.sleep_ms ?? 0) / 1e3,
  /** What the point declares with `mem_mb` (tests of the memory budget); nothing is allocated. */
  memoryBytes: (p) => num(p.mem_mb) * 2 ** 20,
  taskCode: { module: new URL('../debug.js', import.meta.url).href, export: 'runDebugTask' },
};
