/**
 * The checkpoint codec of a training state (`{step, params}` of `gd.ts`): the bytes a train task
 * sends through `reporter.checkpoint` and resumes from. A checkpoint of another shape, version,
 * byte order or linear-algebra backend decodes to null (a resumed run must use the same backend
 * to stay bit-identical).
 */
import type { TrainState } from './gd.js';
import type { MlpParams } from './mlp.js';

const CKPT_MAGIC = 0x4e544b43; // 'NTKC'
const CKPT_VERSION = 1;
const CKPT_HEADER = 6;

/** FNV-1a hash of a string, as a number (identifies the linear-algebra backend in a checkpoint). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
/** Written in native byte order; a reader with the other byte order sees another number. */
const CKPT_BYTE_ORDER_PROBE = 1.5;

/**
 * Serialize a training state: a header of float64 values `[magic, version, byte-order probe,
 * step, hash(backend), L, |W_0|, |b_0|, …, |W_{L−1}|, |b_{L−1}|]`, then every `W_l` and `b_l` in
 * that order, all float64 in native byte order. `backend` names the linear-algebra backend that
 * computed the state (a resumed run must use the same one to stay bit-identical). The result
 * owns a fresh buffer (it can be transferred).
 */
export function encodeTrainState(state: TrainState, backend = ''): Uint8Array {
  const { W, b } = state.params;
  const header = [CKPT_MAGIC, CKPT_VERSION, CKPT_BYTE_ORDER_PROBE, state.step, fnv1a(backend), W.length];
  for (let l = 0; l < W.length; l++) header.push(W[l].length, b[l].length);
  let total = header.length;
  for (let l = 0; l < W.length; l++) total += W[l].length + b[l].length;
  const out = new Float64Array(total);
  out.set(header, 0);
  let at = header.length;
  for (let l = 0; l < W.length; l++) {
    out.set(W[l], at);
    at += W[l].length;
    out.set(b[l], at);
    at += b[l].length;
  }
  return new Uint8Array(out.buffer);
}

/**
 * Inverse of {@link encodeTrainState}, checked against the expected parameter shapes (those of
 * `like`) and backend. Returns `null` if the bytes are not a checkpoint of this shape, version,
 * byte order and backend.
 */
export function decodeTrainState(data: Uint8Array, like: MlpParams, backend = ''): TrainState | null {
  if (data.byteLength % 8 !== 0 || data.byteLength < 8 * CKPT_HEADER) return null;
  const f = new Float64Array(new Uint8Array(data).buffer); // aligned copy
  const L = like.W.length;
  if (f[0] !== CKPT_MAGIC || f[1] !== CKPT_VERSION || f[2] !== CKPT_BYTE_ORDER_PROBE || f[4] !== fnv1a(backend) || f[5] !== L) return null;
  const step = f[3];
  if (!Number.isSafeInteger(step) || step < 0) return null;
  let at = CKPT_HEADER + 2 * L;
  if (f.length < at) return null;
  let total = at;
  for (let l = 0; l < L; l++) {
    if (f[CKPT_HEADER + 2 * l] !== like.W[l].length || f[CKPT_HEADER + 1 + 2 * l] !== like.b[l].length) return null;
    total += like.W[l].length + like.b[l].length;
  }
  if (f.length !== total) return null;
  const W: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    W.push(f.slice(at, at + like.W[l].length));
    at += like.W[l].length;
    b.push(f.slice(at, at + like.b[l].length));
    at += like.b[l].length;
  }
  return { step, params: { W, b } };
}
