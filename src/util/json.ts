/**
 * JSON encoding of task params. JSON has no Infinity, so ±Infinity is stored as the strings
 * `"inf"` / `"-inf"` (e.g. `t: "inf"`, the t = ∞ gradient-flow limit) and decoded back.
 */
import { canonicalJson } from './hash.js';

function encodeValue(v: unknown): unknown {
  if (typeof v === 'number') {
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    if (Number.isNaN(v)) throw new Error('params cannot contain NaN');
    return v;
  }
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, encodeValue(x)]));
  }
  return v;
}

function decodeValue(v: unknown): unknown {
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeValue(x)]));
  return v;
}

/** Params as a JSON-representable value (±Infinity as "inf"/"-inf", undefined dropped). */
export function jsonParams(params: Record<string, unknown>): Record<string, unknown> {
  return encodeValue(params) as Record<string, unknown>;
}

/** Canonical JSON of params (sorted keys, ±Infinity as "inf"/"-inf", undefined dropped). */
export function encodeParams(params: Record<string, unknown>): string {
  return canonicalJson(encodeValue(params));
}

/** Inverse of {@link encodeParams}. */
export function decodeParams(json: string): Record<string, unknown> {
  return decodeValue(JSON.parse(json)) as Record<string, unknown>;
}
