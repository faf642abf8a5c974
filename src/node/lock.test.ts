import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pidAlive } from './files.js';
import { lockDir, lockFileOf, readLockOwner, LockedError } from './lock.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-lock-'));

test('a directory lock holds the pid; the same process may take it again; release removes it', () => {
  const d = tmp();
  const run = path.join(d, 'run');
  const release = lockDir(run);
  assert.equal(lockFileOf(run), `${run}.lock`);
  assert.equal(readLockOwner(`${run}.lock`)!.pid, process.pid);
  const again = lockDir(run);
  again();
  assert.ok(fs.existsSync(`${run}.lock`), 'still held by the first taker');
  release();
  release();
  assert.ok(!fs.existsSync(`${run}.lock`));
  fs.rmSync(d, { recursive: true });
});

test('a live process’s lock refuses, naming its pid; a dead process’s (stale) lock is replaced', async () => {
  const d = tmp();
  const run = path.join(d, 'run');
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise((r) => other.once('spawn', r));
  const pid = other.pid!;
  try {
    fs.writeFileSync(`${run}.lock`, JSON.stringify({ pid, host: os.hostname(), started: '2026-01-01T00:00:00Z', argv: ['train', '--out', run] }));
    assert.throws(
      () => lockDir(run, `run directory ${run}`),
      (e: unknown) => e instanceof LockedError && e.owner.pid === pid && new RegExp(`run directory .*run is in use by another untapped process \\(pid ${pid}, since 2026-01-01T00:00:00Z: untapped train --out .*\\); wait for it to end`).test(e.message),
    );
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  assert.ok(!pidAlive(pid));
  const release = lockDir(run); // the lock of the killed process is stale
  assert.equal(readLockOwner(`${run}.lock`)!.pid, process.pid);
  release();
  // a damaged (unreadable) lock file that is old is stale too
  fs.writeFileSync(`${run}.lock`, '{"pi');
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(`${run}.lock`, old, old);
  lockDir(run)();
  assert.ok(!fs.existsSync(`${run}.lock`));
  fs.rmSync(d, { recursive: true });
});

test('a lock for a directory whose parent does not exist yet creates the parent (a fresh clone has no runs/)', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-lock-'));
  const dir = path.join(base, 'runs', 'quickstart-1');
  const unlock = lockDir(dir);
  assert.ok(fs.existsSync(lockFileOf(dir)), 'the lock file exists');
  unlock();
  assert.ok(!fs.existsSync(lockFileOf(dir)));
  fs.rmSync(base, { recursive: true });
});
