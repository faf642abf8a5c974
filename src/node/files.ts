/**
 * Files on disk (Node only): atomic writes, `.utp` files, errors that name the file and the cause,
 * and {@link fileStorage}, the file-system implementation of the core's {@link RunStorage}.
 *
 * Files are written atomically: to `.name.tmp-<pid>` in the same directory, fsync'd, then renamed
 * over `path`, so a reader (or a run killed mid-write) never sees a half-written file; the temporary
 * file is removed on every failure path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeUtp, encodeUtp, FormatError, type UtpContents } from '../io/format.js';
import type { RunStorage } from '../io/storage.js';

/** What an errno code means, in words, for a file the user named. */
function causeOf(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  const dir = path.dirname(file);
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device (disk full)';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (is ${dir} writable?)`;
    case 'EROFS':
      return 'read-only file system';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return `a part of the path ${dir} is a file, not a directory`;
    case 'ENOENT':
      return `the directory ${dir} does not exist`;
    default:
      return (e as Error).message ?? String(e);
  }
}

/** An error writing a file the user asked for: names `file` and the cause; `code` is the errno code. */
export class FileWriteError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot write ${file}: ${causeOf(cause, file)}`);
    this.name = 'FileWriteError';
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

const TEMP = /^\.(.+)\.tmp-(\d+)$/;

/** Whether a process with this id is running (on this machine). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files (`.name.tmp-<pid>`) that writers killed mid-write left in `dir`: those
 * of processes no longer running. Best-effort; returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP.exec(n);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, n), { force: true });
      removed.push(n);
    } catch {
      // another process may be removing it too
    }
  }
  return removed;
}

/** Creates `dir` (and its parents); an error names the directory and the cause. */
export function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FileWriteError(dir, e);
  }
}

/**
 * Writes `bytes` to `file` atomically: a temporary file in the same directory is written and
 * fsync'd, then renamed over `file`. On any failure (disk full, permission, `file` a directory, …)
 * the temporary file is removed and the error names `file` and the cause ({@link FileWriteError}).
 * Temporary files left by writers that were killed (dead pids) in the same directory are removed.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array | string): void {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(file);
  } catch {
    // not there yet
  }
  if (st && !st.isFile() && !st.isDirectory()) {
    // a device, FIFO or socket (/dev/null, /dev/stdout, a named pipe): written into, never replaced
    try {
      fs.writeFileSync(file, bytes);
    } catch (e) {
      throw new FileWriteError(file, e);
    }
    return;
  }
  // through a symbolic link, the file it points to is replaced (the link stays)
  const real = st ? fs.realpathSync(file) : file;
  const dir = path.dirname(real);
  const tmp = path.join(dir, `.${path.basename(real)}.tmp-${process.pid}`);
  removeStaleTemps(dir);
  let created = false;
  try {
    if (st?.isDirectory()) throw Object.assign(new Error(`EISDIR: ${file}`), { code: 'EISDIR' });
    const fd = fs.openSync(tmp, 'w');
    created = true;
    try {
      fs.writeFileSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, real);
    created = false;
  } catch (e) {
    if (created) {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // nothing more can be done; the error below is the one that matters
      }
    }
    throw new FileWriteError(file, e);
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // directory fsync is best-effort (not supported on every platform)
  }
}

/** Writes a `.utp` file atomically. */
export function writeUtp(file: string, c: UtpContents): void {
  writeFileAtomic(file, encodeUtp(c));
}

/** Reads a `.utp` file, with clear errors for a missing or damaged file. */
export function readUtp(file: string): UtpContents {
  if (!fs.existsSync(file)) throw new FormatError(file, 'file not found');
  return decodeUtp(fs.readFileSync(file), file);
}

/**
 * The file system as the core's {@link RunStorage}: names are paths; `write` is {@link writeFileAtomic},
 * `append` appends (a failure is a {@link FileWriteError}), `read` of a missing file is a
 * {@link FormatError} saying `file not found`.
 */
export const fileStorage: RunStorage = {
  read(name: string): Uint8Array {
    if (!fs.existsSync(name)) throw new FormatError(name, 'file not found');
    return fs.readFileSync(name);
  },
  exists(name: string): boolean {
    return fs.existsSync(name);
  },
  write(name: string, bytes: Uint8Array | string): void {
    writeFileAtomic(name, bytes);
  },
  append(name: string, text: string): void {
    try {
      fs.appendFileSync(name, text);
    } catch (e) {
      throw new FileWriteError(name, e);
    }
  },
};
