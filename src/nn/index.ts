/**
 * Finite-width networks (docs/architecture.md §1 `nn/`): MLP init/forward/backward (`mlp.ts`), full-batch
 * GD with an explicit resumable state (`gd.ts`), empirical NTK by the layer-wise identity
 * (`empirical-ntk.ts`), deviation metrics and the per-layer naming rule (`deviation.ts`,
 * `metrics.ts`), logging schedules (`schedule.ts`), the divergence rule (`divergence.ts`) and the
 * gap to the analytic NTK flow (`kernel-gap.ts`).
 */
export * from './mlp.js';
export * from './gd.js';
export * from './empirical-ntk.js';
export * from './deviation.js';
export * from './metrics.js';
export * from './schedule.js';
export * from './divergence.js';
export * from './kernel-gap.js';
export * from './checkpoint.js';
