import { SqliteDb } from './dist/src/store/sqlite-db.js';
const stats = new Map();
for (const m of ['run', 'all', 'exec']) {
  const orig = SqliteDb.prototype[m];
  SqliteDb.prototype[m] = async function (sql, p) {
    const t = performance.now();
    try { return await orig.call(this, sql, p); } finally {
      const k = m + ' ' + sql.replace(/\s+/g, ' ').slice(0, 60);
      const s = stats.get(k) ?? [0, 0]; s[0]++; s[1] += performance.now() - t; stats.set(k, s);
    }
  };
}
process.on('beforeExit', () => { [...stats].sort((a, b) => b[1][1] - a[1][1]).slice(0, 14).forEach(([k, [n, ms]]) => console.log(ms.toFixed(0).padStart(6), 'ms', String(n).padStart(5), k)); stats.clear(); });
await import('/tmp/prof-store.mjs');
