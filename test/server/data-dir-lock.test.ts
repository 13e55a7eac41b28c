import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/server/db/data-dir-lock.ts';

/** A live process that is not this one. */
function sleeper() {
  const proc = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return { proc, exited };
}

describe('PGlite data directory lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'assenso-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes pid and host, and removes the file on release', async () => {
    const lock = lockDataDir(dir);
    const info = JSON.parse(await readFile(lock.path, 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('refuses a directory held by a live process, naming it; takes it over once that process is gone', async () => {
    const other = sleeper();
    try {
      await writeFile(
        join(dir, 'assenso.lock'),
        JSON.stringify({ pid: other.proc.pid, host: hostname(), startedAt: 1 }),
      );
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      expect(() => lockDataDir(dir)).toThrow(
        new RegExp(`in use by another assenso server \\(pid ${other.proc.pid}\\)`),
      );
    } finally {
      other.proc.kill('SIGKILL');
      await other.exited;
    }
    const lock = lockDataDir(dir);
    expect(JSON.parse(await readFile(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('refuses a lock from another host, which it cannot check', async () => {
    await writeFile(join(dir, 'assenso.lock'), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 1 }));
    expect(() => lockDataDir(dir)).toThrow(/locked by pid 1 on host elsewhere/);
  });
});
