/**
 * @module
 * PGlite is one embedded PostgreSQL inside one process: two processes writing one data directory would corrupt
 * it. A lock file (`<dir>/assenso.lock`, holding pid and host) keeps the directory to one server. A lock left by
 * a process that died (kill -9, power loss) is detected with a liveness check and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: number;
}

/** A takeover marker older than this is itself left over from a crash. */
const TAKEOVER_STALE_MS = 10_000;

function readLock(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify({ pid: process.pid, host: hostname(), startedAt: Date.now() })}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock of `dir` (created if missing) or throws `DataDirLockedError` naming the holder.
 * The lock is released by `release()` and, as a last resort, when the process exits normally.
 */
export function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'assenso.lock');
  const takeover = `${path}.takeover`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path)) return held(path);
    const holder = readLock(path);
    // An unreadable lock is either being written right now or was cut short by a crash: only the latter is old.
    if (!holder && Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) < TAKEOVER_STALE_MS)
      throw new DataDirLockedError(`${dir} is being locked by another process (${path})`);
    if (holder && holder.pid !== process.pid) {
      if (holder.host !== hostname())
        throw new DataDirLockedError(
          `${dir} is locked by pid ${holder.pid} on host ${holder.host}; if no server runs there, delete ${path}`,
        );
      if (alive(holder.pid))
        throw new DataDirLockedError(
          `${dir} is in use by another assenso server (pid ${holder.pid}). PGlite allows one process per data ` +
            'directory: stop that server, give this one another data directory, or use PostgreSQL (DATABASE_URL).',
        );
    }
    // The holder is gone. One process at a time replaces its lock: the one that creates the takeover marker.
    try {
      if (Date.now() - statSync(takeover).mtimeMs > TAKEOVER_STALE_MS) unlinkSync(takeover);
    } catch {}
    if (!tryCreate(takeover)) continue;
    try {
      const again = readLock(path);
      if (again && again.pid !== holder?.pid) continue;
      try {
        unlinkSync(path);
      } catch {}
      if (tryCreate(path)) return held(path);
    } finally {
      unlinkSync(takeover);
    }
  }
  throw new DataDirLockedError(`could not lock ${dir}: another process keeps taking ${path}`);
}

function held(path: string): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (readLock(path)?.pid === process.pid) unlinkSync(path);
  };
  process.on('exit', release);
  return { path, release };
}
