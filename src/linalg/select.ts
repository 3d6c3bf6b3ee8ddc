/**
 * Backend selection for a thread: `auto` (native OpenBLAS if it loads, else the portable JS
 * backend), or a forced choice. The environment variable NTK_SWEEP_LINALG overrides `auto`.
 */
import { linalg, setLinalg } from './index.js';
import { jsBackend } from './js.js';
import { loadNativeBackend, selectBackendFromEnv } from './native.js';

let selected: string | null = null;
let fallbackReason: string | undefined;

/**
 * Install the backend for `choice` in this thread (idempotent per choice) and set its BLAS
 * thread count.
 * @throws Error if `native` is forced and unavailable, or `choice` is unknown.
 */
export function useLinalg(choice: string, blasThreads = 1): string {
  const env = { ...process.env };
  if (choice && choice !== 'auto') env.NTK_SWEEP_LINALG = choice;
  const key = `${env.NTK_SWEEP_LINALG ?? 'auto'}`;
  if (selected !== key) {
    const sel = selectBackendFromEnv({ js: jsBackend, env });
    setLinalg(sel.backend);
    fallbackReason = sel.fallbackReason;
    selected = key;
    if (sel.native) sel.native.setThreads(Math.max(1, blasThreads));
  }
  return linalg().name;
}

/** What `doctor` prints about linear algebra. */
export function describeLinalg(): Record<string, unknown> {
  const native = loadNativeBackend();
  useLinalg('auto');
  return {
    linalg: linalg().name,
    linalg_env: process.env.NTK_SWEEP_LINALG ?? '(unset: auto)',
    native: 'error' in native ? `unavailable: ${native.error}` : native.info(),
    fallback_reason: fallbackReason ?? null,
  };
}

/** Why `auto` fell back from the native backend in this thread (undefined when it did not). */
export function linalgFallbackReason(): string | undefined {
  return fallbackReason;
}
