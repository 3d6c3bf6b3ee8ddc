/**
 * Writing a report folder. Every file is first written under a temporary name and renamed into
 * place only when all were written, so a failure (permissions, full disk) leaves the previous
 * report as it was. A manifest (`.ntk-sweep-report.json`) lists the files a report wrote; files
 * of the previous report that the new one does not have (a metric no longer drawn) are removed.
 * Nothing else in the folder is touched, and a folder whose files were not written by a report
 * is refused rather than overwritten.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const MANIFEST = '.ntk-sweep-report.json';

/** Why a report cannot go to `out` (a file, or a folder holding files a report did not write). */
export class ReportFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportFolderError';
  }
}

/** Names listed by the folder's manifest (plain file names only); null when it has no manifest. */
function previousFiles(out: string): string[] | null {
  let text: string;
  try {
    text = readFileSync(join(out, MANIFEST), 'utf8');
  } catch {
    return null;
  }
  try {
    const names = JSON.parse(text) as unknown;
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string' && n === basename(n) && n !== '' && !n.startsWith('.')) : [];
  } catch {
    return [];
  }
}

/**
 * Check, before anything is rendered, that a report with these file names may be written to
 * `out`: it does not exist, or is a folder that either has a report manifest or holds none of
 * the names.
 * @throws ReportFolderError naming the conflict.
 */
export function checkReportFolder(out: string, names: string[]): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new ReportFolderError(`--out ${out} is a file, not a folder`);
  if (previousFiles(out) !== null) return;
  const clash = names.filter((n) => existsSync(join(out, n)));
  if (clash.length) {
    throw new ReportFolderError(`--out ${out} already holds ${clash.slice(0, 3).join(', ')}${clash.length > 3 ? ', …' : ''}, not written by ntk-sweep report; choose a new or empty folder`);
  }
}

/**
 * Create folder `dir` and its missing parents one level at a time. (Node's recursive mkdir
 * loops forever under a pseudo file system such as /proc, which answers ENOENT for every new
 * name; created level by level, the first failing level throws its error.)
 */
function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) mkdirSync(d);
}

/**
 * Write `files` (distinct plain names) into folder `out`, creating it.
 * @throws the file system's error (EACCES, ENOSPC, …). Until every file is written the folder
 *   is unchanged; an error between the renames (rare: they do not allocate) leaves a mix of old
 *   and new files, all listed in the manifest so the next report removes the stale ones.
 */
export function writeReportFolder(out: string, files: { name: string; content: string }[]): void {
  if (new Set(files.map((f) => f.name)).size !== files.length) throw new Error('writeReportFolder: file names must be distinct');
  makeFolder(out);
  const tmp = files.map((f) => join(out, `.${f.name}.tmp-${process.pid}`));
  try {
    files.forEach((f, i) => writeFileSync(tmp[i], f.content));
    const previous = previousFiles(out) ?? [];
    // listed before the renames: whatever an interrupted rename leaves, the next report removes
    const names = files.map((f) => f.name);
    writeFileSync(join(out, MANIFEST), JSON.stringify([...new Set([...previous, ...names])]) + '\n');
    files.forEach((f, i) => renameSync(tmp[i], join(out, f.name)));
    for (const n of previous) if (!files.some((f) => f.name === n)) rmSync(join(out, n), { force: true });
    writeFileSync(join(out, MANIFEST), JSON.stringify(names) + '\n');
  } finally {
    for (const t of tmp) rmSync(t, { force: true });
  }
}
