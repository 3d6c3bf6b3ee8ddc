/** The spec-drift notice: every changed field, with long lists summarised. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeSpecChange } from '../src/cli/spec-diff.js';

const spec = (xs: number[], depth: number[]) => JSON.stringify({ name: 'd', kind: 'debug', grid: { x: xs, depth } });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('a short list change is shown in full, a long one as its ends and length', () => {
  const msg = describeSpecChange('d', spec(range(6000), [1, 2]), spec(range(6100), [1, 2, 3]), 100);
  assert.match(msg, /~ grid\.depth: \[1,2\] -> \[1,2,3\]/);
  assert.match(msg, /~ grid\.x: \[0, 1, 2, …, 5998, 5999\] \(6000 values\) -> \[0, 1, 2, …, 6098, 6099\] \(6100 values\)/);
  assert.match(msg, /100 new grid point\(s\) added/);
  assert.ok(msg.length < 500, `the notice stays short (${msg.length} characters)`);
});

test('t = ∞ is shown as inf in the drift notice, as the spec writes it (not null)', () => {
  const a = JSON.stringify({ name: 'd', kind: 'kernel', grid: { t: [1, 'inf'] } });
  const b = JSON.stringify({ name: 'd', kind: 'kernel', grid: { t: [1, 10, 'inf'] }, fixed: { t_max: 'inf' } });
  const msg = describeSpecChange('d', a, b, 1);
  assert.match(msg, /~ grid\.t: \[1,inf\] -> \[1,10,inf\]/);
  assert.match(msg, /\+ fixed\.t_max: inf/);
  assert.doesNotMatch(msg, /null/);
});
