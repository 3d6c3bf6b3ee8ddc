/** Option values that do not parse are reported as typed, with exit code 2 and nothing written. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir } from './helpers/cli.js';

test('a non-numeric option value is shown as typed (not as NaN), exit 2, no database created', async () => {
  const dir = tempDir();
  const db = join(dir, 'x.sqlite');
  const cases: [string[], RegExp][] = [
    [['run', 'sweeps/quickstart.yaml', '--threads', 'abc'], /^error: --threads: expected a positive integer, got abc$/m],
    [['run', 'sweeps/quickstart.yaml', '--max-attempts=1.5'], /^error: --max-attempts: expected a positive integer, got 1\.5$/m],
    [['run', 'sweeps/quickstart.yaml', '--lease', 'soon'], /^error: --lease: expected a number of seconds between 0\.2 and 86400, got soon$/m],
  ];
  for (const [args, msg] of cases) {
    const r = await runCli([...args, '--db', db]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /NaN/);
  }
  assert.equal(existsSync(db), false);
});
