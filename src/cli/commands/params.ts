/** `ntk-sweep params`: every spec parameter with its meaning, kinds and default. */
import type { Argv } from 'yargs';

export function registerParams(y: Argv): Argv {
  return y.command<{ json: boolean }>(
    'params',
    'List every parameter a sweep spec can set',
    (c) => c.option('json', { type: 'boolean', default: false }),
    async (a) => {
      const [{ paramTable }, { renderRows }] = await Promise.all([import('../../spec/params.js'), import('../format.js')]);
      const rows = Object.entries(paramTable()).map(([name, d]) => ({
        name,
        kinds: d.kinds.join(','),
        section: d.data ? 'dataset' : 'fixed/grid/derived',
        default: d.default === undefined ? '' : JSON.stringify(d.default),
        expected: d.expected,
        meaning: d.doc,
      }));
      process.stdout.write(a.json ? JSON.stringify(rows, null, 2) + '\n' : renderRows(rows, 'table'));
    },
  );
}
