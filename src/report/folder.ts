/**
 * Writing a report folder. Every file is first written under a temporary name and renamed into
 * place only when all were written, so a failure (permissions, full disk) leaves the previous
 * report as it was. A manifest (`.ntk-sweep-report.json`) lists the files a report wrote; files
 * of the previous report that the new one does not have (a metric no longer drawn) are removed.
 * Nothing else in the folder is touched.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const MANIFEST = '.ntk-sweep-report.json';

/** Names listed by the folder's manifest (plain file names only); none when it has no manifest. */
function previousFiles(out: string): string[] {
  try {
    const names = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as unknown;
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string' && n === basename(n) && n !== '' && !n.startsWith('.')) : [];
  } catch {
    return [];
  }
}

/**
 * Write `files` (plain names) into folder `out`, creating it.
 * @throws the file system's error (EACCES, EEXIST when `out` is a file, ENOSPC, …); the folder
 *   then holds no new or partial file.
 */
export function writeReportFolder(out: string, files: { name: string; content: string }[]): void {
  mkdirSync(out, { recursive: true });
  const tmp = files.map((f) => join(out, `.${f.name}.tmp-${process.pid}`));
  try {
    files.forEach((f, i) => writeFileSync(tmp[i], f.content));
  } catch (e) {
    for (const t of tmp) rmSync(t, { force: true });
    throw e;
  }
  const stale = previousFiles(out).filter((n) => !files.some((f) => f.name === n));
  files.forEach((f, i) => renameSync(tmp[i], join(out, f.name)));
  for (const n of stale) rmSync(join(out, n), { force: true });
  writeFileSync(join(out, MANIFEST), JSON.stringify(files.map((f) => f.name)) + '\n');
}
