/**
 * Infinite-width kernels: activations and their dual maps, the NNGP/NTK recursion as a fold over
 * layer maps in normalized form, kernel
 * matrices, kernel statistics, gradient-flow predictions and prediction metrics.
 */
export { DK, OMK, OPK, type Activation, type Homogeneous } from './activation.js';
export { activationOf, expressionActivation, ACTIVATION_NAMES, ALL_ACTIVATION_NAMES, NNGP_ONLY, ACTIVATION_PARAMS, type ActivationName } from './activations.js';
export { NUMERICAL_ACTIVATION_NAMES, numericalActivation } from './activations-numerical.js';
export { quadratureActivation, trapezoidRule, STEP_TOL, MIN_STEP, TABLE_TOL, type NumericalActivationDef, type TrapezoidRule } from './activation-quadrature.js';
export { parseActivationExpression, looksLikeExpression, EXPRESSION_FUNCTIONS, type ActivationExpression } from './activation-expression.js';
export { gaussHermite, type GaussHermiteRule } from './gauss-hermite.js';
export { validateArchitecture, activationOfParams, type Architecture } from './architecture.js';
export { inputKernel, checkParams } from './input.js';
export { reluKernelStep } from './relu.js';
export { activationKernelStep, advanceDiagonal, advancePairs, type LayerParams, type LayerCoefficients } from './layer.js';
export { kernelFold, layerMap, type FoldOptions } from './fold.js';
export { symmetrizeLower, type KernelState, type InputOptions } from './state.js';
export {
  kernelMatrix,
  kernelView,
  takeNormalizedBlocks,
  borrowNtkBlocks,
  type KernelView,
  splitTrainTest,
  normalizedBlocks,
  type KernelName,
  type KernelScale,
  type KernelMatrixOptions,
} from './kernel-matrix.js';
export { logMeanExp, trainDiagMeanScale, flowScale, flowTimes, scaledBlocks, type FlowScale, type TimeScale } from './scale.js';
export { kernelStats, offDiagStats, spectrumStats, stateDistToLimit, type KernelStats, type OffDiagStats } from './stats.js';
export { depthProperties, type DepthProperties } from './depth-properties.js';
export {
  gradientFlowPredict,
  flowWeight,
  absoluteRidge,
  type DiagRegMode,
  type GradientFlowInput,
  type GradientFlowPrediction,
  type GradientFlowResult,
} from './predict.js';
export { predictionMetrics, type PredictionMetrics } from './metrics.js';
export { krylovGradientFlow, type KrylovFlowInput, type KrylovFlowResult, type KrylovTimeInfo } from './krylov-flow.js';
