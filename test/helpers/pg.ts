/**
 * A real PostgreSQL server for the tests, started by the test itself: `initdb` into a temporary
 * directory and `pg_ctl start` on a free port, as a non-root user (PostgreSQL refuses to run as
 * root: when the tests run as root, the server runs as the `postgres` system user through
 * `runuser`). A watchdog process stops the server and removes the directory when the test process
 * ends, also when it is killed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The directory of initdb/pg_ctl, or null: `PG_BINDIR`, `pg_config --bindir`, /usr/lib/postgresql/<newest>/bin. */
export function findPgBin(): string | null {
  const ok = (d: string | undefined): d is string => !!d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'));
  if (ok(process.env.PG_BINDIR)) return process.env.PG_BINDIR;
  try {
    const d = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (ok(d)) return d;
  } catch {
    // no pg_config on PATH
  }
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (ok(join(base, v, 'bin'))) return join(base, v, 'bin');
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgServer {
  port: number;
  /** A fresh empty database on this server; returns its URL. */
  newDatabase(): Promise<string>;
  /** `pg_ctl stop -m fast` (connections are cut) and `start` again on the same port. */
  restart(): Promise<void>;
  stopServer(): void;
  startServer(): void;
  /** Stop the server and delete its directory. */
  close(): void;
}

let dbCounter = 0;

/**
 * Start a PostgreSQL server, or return the reason it cannot run here (no binaries; no non-root
 * user to run it as).
 */
export async function startPostgres(): Promise<PgServer | string> {
  const bin = findPgBin();
  if (!bin) return 'PostgreSQL binaries not found (install Debian package postgresql, or set PG_BINDIR)';
  const asRoot = process.getuid?.() === 0;
  let uid = 0;
  let gid = 0;
  if (asRoot) {
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    } catch {
      return 'running as root and there is no postgres user to run the server as';
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ntk-sweep-pg-'));
  if (asRoot) chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const as = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const sh = (cmd: string, args: string[]) => {
    const [c, a] = as(join(bin, cmd), args);
    execFileSync(c, a, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  const port = await freePort();
  sh('initdb', ['-D', data, '-A', 'trust', '-U', 'ntk', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const startServer = () => sh('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stopServer = () => sh('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  startServer();
  // the watchdog: when this process is gone (even after kill -9), stop the server, remove its files
  const [wc, wa] = as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
  const watchdog = spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${[wc, ...wa].map((x) => `'${x}'`).join(' ')} >/dev/null 2>&1; rm -rf '${dir}'`],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  const base = `postgres://ntk@127.0.0.1:${port}`;
  let closed = false;
  return {
    port,
    async newDatabase() {
      const name = `t${process.pid}_${++dbCounter}`;
      const c = new pg.Client({ connectionString: `${base}/postgres` });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `${base}/${name}`;
    },
    async restart() {
      stopServer();
      startServer();
    },
    stopServer,
    startServer,
    close() {
      if (closed) return;
      closed = true;
      try {
        const [c, a] = as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
        execFileSync(c, a, { stdio: 'ignore' });
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
