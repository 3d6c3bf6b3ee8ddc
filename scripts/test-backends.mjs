#!/usr/bin/env node
// Second pass of `npm test`: the numerical suites (linalg, ntk, nn) again with the native
// OpenBLAS backend active in every thread (NTK_SWEEP_LINALG=native). The first pass ran them on
// the portable JS backend. Skipped, with the reason, when the native addon is not built.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const probe = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('./dist/src/linalg/native.js'); const r = m.loadNativeBackend(); if ('error' in r) { console.log(r.error); process.exit(3); }"], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log(`native backend unavailable (${(probe.stdout || probe.stderr).trim()}): numerical suites ran on the JS backend only`);
  process.exit(0);
}
const files = readdirSync('dist/test')
  .filter((f) => /^(linalg|ntk|nn)-.*\.test\.js$/.test(f))
  .map((f) => `dist/test/${f}`);
console.log(`numerical suites on the native backend: ${files.length} files`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env: { ...process.env, NTK_SWEEP_LINALG: 'native' } });
process.exit(r.status ?? 1);
