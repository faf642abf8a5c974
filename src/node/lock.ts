/**
 * Run-directory locks: while a run writes into a directory, a lock file next to it (`DIR.lock`)
 * holds the writer's pid, host and start time, so a second run into the same directory refuses,
 * naming the first one's pid, instead of mixing its files with the first's. A lock left by a process
 * that no longer runs (killed with SIGKILL, a crash, a reboot) is stale: it is detected and replaced.
 *
 * Locks are per process and re-entrant (the same process may take a lock it holds; it is released
 * when every taker has released it) and are removed when the process exits normally.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileWriteError, pidAlive } from './files.js';

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  started: string;
  /** The command line of the owner (for messages). */
  argv?: string[];
}

/** Raised when another live process holds the lock; `owner` says which. */
export class LockedError extends Error {
  constructor(
    readonly file: string,
    readonly owner: LockOwner,
    what: string,
  ) {
    super(
      `${what} is in use by another untapped process (pid ${owner.pid}${owner.host !== os.hostname() ? ` on host ${owner.host}` : ''}, since ${owner.started}${owner.argv?.length ? `: untapped ${owner.argv.join(' ')}` : ''}); ` +
        `wait for it to end or choose another --out. If that process no longer runs, delete ${file}`,
    );
    this.name = 'LockedError';
  }
}

const held = new Map<string, number>();
let hooked = false;

/** The lock file of a run or model directory: `DIR.lock`, next to it. */
export function lockFileOf(dir: string): string {
  return `${path.resolve(dir)}.lock`;
}

/** The owner recorded in a lock file; null when it is missing or unreadable (being written, damaged). */
export function readLockOwner(file: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Whether the owner of a lock still runs: on this host, by its pid; on another host we cannot tell, so yes. */
function ownerAlive(o: LockOwner): boolean {
  if (o.host !== os.hostname()) return true;
  return o.pid !== process.pid && pidAlive(o.pid);
}

/**
 * Takes the lock of directory `dir` (the file `DIR.lock`) for this process; `what` names the
 * directory in messages (e.g. `run directory runs/a`). Throws {@link LockedError} when a live
 * process holds it; a stale lock (its process is gone) is replaced. Returns the release function
 * (idempotent).
 */
export function lockDir(dir: string, what = path.resolve(dir)): () => void {
  const file = lockFileOf(dir);
  const n = held.get(file);
  if (n !== undefined) {
    held.set(file, n + 1);
    return once(() => release(file));
  }
  // the lock sits beside the directory: its parent must exist (a fresh clone has no runs/ yet)
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (e) {
    throw new FileWriteError(file, e);
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const owner: LockOwner = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), argv: process.argv.slice(2) };
      fs.writeFileSync(file, JSON.stringify(owner) + '\n', { flag: 'wx' });
      held.set(file, 1);
      if (!hooked) {
        hooked = true;
        process.on('exit', () => {
          for (const f of held.keys()) fs.rmSync(f, { force: true });
        });
      }
      return once(() => release(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileWriteError(file, e);
    }
    const owner = readLockOwner(file);
    if (owner && ownerAlive(owner)) throw new LockedError(file, owner, what);
    if (!owner) {
      // unreadable: another process may be writing it this very moment; a lock that stays unreadable is damaged
      let age = Infinity;
      try {
        age = Date.now() - fs.statSync(file).mtimeMs;
      } catch {
        continue; // gone meanwhile: try again
      }
      if (age < 2000) {
        sleep(100 * (attempt + 1));
        continue;
      }
    }
    // stale: its process is gone. Remove it only if it is still the one read (another process may
    // have replaced it since), then take it.
    const again = readLockOwner(file);
    if (JSON.stringify(again) === JSON.stringify(owner)) fs.rmSync(file, { force: true });
  }
  const owner = readLockOwner(file);
  if (owner) throw new LockedError(file, owner, what);
  throw new Error(`${what}: cannot take the lock ${file} (it keeps changing or cannot be read); if no untapped process uses the directory, delete it`);
}

function release(file: string): void {
  const n = held.get(file);
  if (n === undefined) return;
  if (n > 1) {
    held.set(file, n - 1);
    return;
  }
  held.delete(file);
  const owner = readLockOwner(file);
  if (owner && owner.pid === process.pid && owner.host === os.hostname()) fs.rmSync(file, { force: true });
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
