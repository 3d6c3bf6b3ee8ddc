#!/usr/bin/env node
// Builds the optional native linear-algebra backend (native/build/Release/ntk_linalg.node).
//
// Run from `npm run prepare` (so `npm ci` builds it) or by hand: `node native/build.mjs`.
// The native backend is optional: when the build is impossible (no OpenBLAS/LAPACKE headers or
// libraries, no compiler, no node-gyp, no Node headers, ...) this prints ONE line
//   native backend not built: <reason>; using the JS backend
// and exits 0, so `npm ci` still succeeds. The full node-gyp output goes to native/build/build.log.
//
// Environment:
//   NTK_SWEEP_SKIP_NATIVE=1     do not build (prints the line above and exits 0)
//   NTK_SWEEP_REQUIRE_NATIVE=1  a failed build exits 1 instead of 0 (for CI)
//   NTK_SWEEP_NATIVE_VERBOSE=1  stream node-gyp's output instead of capturing it
// Requirements (Debian/Ubuntu): apt-get install libopenblas-dev liblapacke-dev (+ g++, make, python3).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.dirname(nativeDir);
const addonPath = path.join(nativeDir, 'build', 'Release', 'ntk_linalg.node');
const logPath = path.join(nativeDir, 'build', 'build.log');
const APT_HINT = 'install libopenblas-dev liblapacke-dev';
const required = process.env.NTK_SWEEP_REQUIRE_NATIVE === '1';
const verbose = process.env.NTK_SWEEP_NATIVE_VERBOSE === '1';
const started = Date.now();

function fail(reason) {
  console.log(`native backend not built: ${reason}; using the JS backend`);
  process.exit(required ? 1 : 0);
}

function saveLog(text) {
  try {
    mkdirSync(path.dirname(logPath), { recursive: true });
    writeFileSync(logPath, text);
    return path.relative(rootDir, logPath);
  } catch {
    return null;
  }
}

/** node-gyp: the one npm runs scripts with, else a local one, else the one npm bundles. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(path.join(rootDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  if (process.env.npm_execpath) {
    candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const prefix = path.dirname(path.dirname(process.execPath));
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** Headers of the running Node, so node-gyp never tries to download them. */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.dirname(path.dirname(process.execPath));
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

/** The most useful line of a failed build's output. */
function explain(output) {
  let m = output.match(/fatal error: ([^\s:]+): No such file or directory/);
  if (m) return `${m[1]} not found (${APT_HINT})`;
  m = output.match(/cannot find -l([\w.+-]+)/);
  if (m) return `library lib${m[1]} not found (${APT_HINT})`;
  if (/Could not find any Python installation|find Python/i.test(output) && /gyp ERR!/.test(output)) {
    return 'node-gyp found no Python 3 (install python3)';
  }
  m = output.match(/(?:^|\n)[^\n]*\b(make|g\+\+|c\+\+|cc)\b[^\n]*(?:not found|No such file)/);
  if (m) return `build tool missing: ${m[0].trim()} (install g++ and make)`;
  if (/ETIMEDOUT|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|getaddrinfo/.test(output)) {
    return 'node-gyp tried to download Node headers and had no network (set npm_config_nodedir)';
  }
  const errLines = output.split('\n').filter((l) => /\berror\b|gyp ERR! stack Error/i.test(l));
  return (errLines[0] ?? output.trim().split('\n').pop() ?? 'unknown error').trim().slice(0, 300);
}

if (process.env.NTK_SWEEP_SKIP_NATIVE === '1') fail('NTK_SWEEP_SKIP_NATIVE=1');

try {
  createRequire(path.join(rootDir, 'package.json')).resolve('node-addon-api');
} catch {
  fail('the node-addon-api package is not installed (run npm ci)');
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) fail('node-gyp not found (it ships with npm; or npm install --save-dev node-gyp)');

const args = [nodeGyp, 'rebuild'];
const nodeDir = findNodeDir();
if (nodeDir) args.push(`--nodedir=${nodeDir}`);
const run = spawnSync(process.execPath, args, {
  cwd: nativeDir,
  encoding: 'utf8',
  stdio: verbose ? 'inherit' : 'pipe',
  maxBuffer: 64 * 1024 * 1024,
  timeout: 10 * 60 * 1000,
  env: { ...process.env, npm_config_loglevel: process.env.npm_config_loglevel ?? 'warn' },
});
const output = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
const log = verbose ? null : saveLog(`$ node ${args.join(' ')}\n${output}`);
const logNote = log ? ` (log: ${log})` : '';
if (run.error) fail(`could not run node-gyp: ${run.error.message}${logNote}`);
if (run.status !== 0) fail(`${explain(output)}${logNote}`);
if (!existsSync(addonPath)) fail(`node-gyp succeeded but ${path.relative(rootDir, addonPath)} is missing${logNote}`);

// Smoke test in a separate process: the addon loads (run-time libraries present) and computes.
const smoke = spawnSync(
  process.execPath,
  [
    '-e',
    `const m = require(${JSON.stringify(addonPath)});
     const e = m.eigh(2, new Float64Array([2, 1, 1, 2]));
     if (Math.abs(e.values[0] - 1) > 1e-12 || Math.abs(e.values[1] - 3) > 1e-12) throw new Error('eigh([[2,1],[1,2]]) gave ' + e.values);
     process.stdout.write(m.getInfo().config);`,
  ],
  { encoding: 'utf8', timeout: 60 * 1000 },
);
if (smoke.status !== 0) {
  const msg = (smoke.stderr || String(smoke.error ?? '')).split('\n').find((l) => /Error/.test(l)) ?? 'unknown error';
  rmSync(addonPath, { force: true }); // never leave a broken addon for loadNativeBackend to find
  fail(`built addon does not load or compute: ${msg.trim().slice(0, 300)}`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`native backend built: ${path.relative(rootDir, addonPath)} (${smoke.stdout.trim()}) in ${seconds} s`);
