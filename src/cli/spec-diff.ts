/** Human description of how a sweep's spec changed between two runs (spec drift). */
import { decodeParams } from '../util/json.js';
import { showValue, toJson } from './format.js';

function flatten(o: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = toJson(o);
  }
  return out;
}

/** A value for the notice, as written in a spec (`inf` for ∞); long lists are summarised (`[0, 1, 2, …, 5998, 5999] (6000 values)`). */
function brief(json: string): string {
  const v = JSON.parse(json) as unknown;
  if (Array.isArray(v) && v.length > 6 && json.length > 120) {
    return `[${v.slice(0, 3).map(showValue).join(', ')}, …, ${v.slice(-2).map(showValue).join(', ')}] (${v.length} values)`;
  }
  const text = Array.isArray(v) ? `[${v.map(showValue).join(',')}]` : showValue(v);
  return text.length <= 120 ? text : text.slice(0, 117) + '...';
}

/** e.g. `sweep q: spec changed since the last run: grid.depth [1,2] -> [1,2,3]; ...`. */
export function describeSpecChange(name: string, oldJson: string, newJson: string, attached: number): string {
  const a = flatten(decodeParams(oldJson));
  const b = flatten(decodeParams(newJson));
  const changes: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[k] === b[k]) continue;
    if (a[k] === undefined) changes.push(`+ ${k}: ${brief(b[k])}`);
    else if (b[k] === undefined) changes.push(`- ${k}: ${brief(a[k])}`);
    else changes.push(`~ ${k}: ${brief(a[k])} -> ${brief(b[k])}`);
  }
  return (
    `sweep ${name}: the spec changed since it was last registered:\n  ${changes.join('\n  ')}\n` +
    `  ${attached} new grid point(s) added; results of earlier grid points are kept (every grid point is identified by its full params, so meanings never mix). ` +
    `The view current_results has this spec's points only; \`ntk-sweep prune ${name}\` shows, and with --yes detaches, the points it no longer generates.`
  );
}
