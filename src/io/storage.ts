/**
 * RunStorage: where the trainer keeps its checkpoint and its log, by name. The core knows files only
 * through this interface, so it runs in a browser; the Node entry (`untapped/node`) implements it
 * on the file system (`fileStorage`: atomic writes, errors naming the file and the cause) and
 * registers it as the host's storage, which a trainer uses when given none. {@link memoryStorage}
 * keeps everything in a `Map` (a browser, tests).
 *
 * Methods are synchronous: a checkpoint is written between two epochs and must be complete before
 * the log line that announces it.
 */

/** Named byte blobs and append-only text logs. */
export interface RunStorage {
  /** The bytes stored under `name`; throws when there are none (the error names `name`). */
  read(name: string): Uint8Array;
  /** Whether something is stored under `name`. */
  exists(name: string): boolean;
  /** Stores `bytes` under `name`, replacing what was there, atomically: a reader sees the old or the new bytes, never a mix. */
  write(name: string, bytes: Uint8Array | string): void;
  /** Appends `text` to the log `name` (created when missing). */
  append(name: string, text: string): void;
}

/** Storage in memory: a `Map` from name to bytes. */
export class MemoryStorage implements RunStorage {
  readonly files = new Map<string, Uint8Array>();

  read(name: string): Uint8Array {
    const b = this.files.get(name);
    if (!b) throw new Error(`${name}: not found in memory storage`);
    return b;
  }

  exists(name: string): boolean {
    return this.files.has(name);
  }

  write(name: string, bytes: Uint8Array | string): void {
    this.files.set(name, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : Uint8Array.from(bytes));
  }

  append(name: string, text: string): void {
    const old = this.files.get(name) ?? new Uint8Array(0);
    const add = new TextEncoder().encode(text);
    const out = new Uint8Array(old.length + add.length);
    out.set(old);
    out.set(add, old.length);
    this.files.set(name, out);
  }

  /** The text stored under `name` (UTF-8). */
  text(name: string): string {
    return new TextDecoder().decode(this.read(name));
  }
}

/** A new, empty {@link MemoryStorage}. */
export function memoryStorage(): MemoryStorage {
  return new MemoryStorage();
}
