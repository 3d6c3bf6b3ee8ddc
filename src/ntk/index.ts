/**
 * Infinite-width kernels (docs/conventions.md §4–§8): ReLU NNGP/NTK recursion in normalized form, kernel
 * matrices, kernel statistics, gradient-flow predictions and prediction metrics.
 */
export {
  reluInputKernel,
  reluKernelStep,
  reluKernelFold,
  symmetrizeLower,
  mirrorLower,
  type ReluKernelParams,
  type ReluKernelState,
  type ReluInputOptions,
  type ReluFoldOptions,
} from './relu.js';
export {
  kernelMatrix,
  splitTrainTest,
  logMeanExp,
  type KernelName,
  type KernelScale,
  type KernelMatrixOptions,
} from './kernel-matrix.js';
export { kernelStats, type KernelStats } from './stats.js';
export {
  gradientFlowPredict,
  flowWeight,
  applyTimeScale,
  type DiagRegMode,
  type TimeScale,
  type GradientFlowInput,
  type GradientFlowPrediction,
  type GradientFlowResult,
} from './predict.js';
export { predictionMetrics, type PredictionMetrics } from './metrics.js';
export {
  krylovGradientFlow,
  lanczosExtremes,
  denseSymOp,
  choleskyInverseOp,
  BlockKrylovBasis,
  type SymOp,
  type OpScale,
  type LanczosOptions,
  type LanczosExtremes,
  type KrylovFlowInput,
  type KrylovFlowResult,
  type KrylovTimeInfo,
} from './krylov.js';
