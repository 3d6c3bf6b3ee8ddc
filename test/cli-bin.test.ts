/**
 * The installed command: `package.json`'s `bin` entry must be a file the shell can execute
 * directly (`npx ntk-sweep …` runs it through `sh`, not through `node`). tsc writes its output
 * with mode 0644, so the build must set the executable bit; CI once failed on exactly this.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; bin: Record<string, string> };

test('the bin entry is executable and runs without `node` in front', () => {
  const bin = resolve(pkg.bin['ntk-sweep']!);
  const mode = statSync(bin).mode;
  assert.equal(mode & 0o111, 0o111, `${bin} has mode ${(mode & 0o777).toString(8)}; expected it executable by all`);
  assert.ok(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'), 'the bin entry starts with a node shebang');
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  assert.equal(out, pkg.version);
});
