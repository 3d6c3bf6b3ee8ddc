/**
 * Class arrays of the image datasets shared by the worker threads of a pool, in
 * `SharedArrayBuffer`s: the first thread that needs a class reads it into shared memory, the
 * others wait for it and read the same bytes. A pool then reads and holds each class once instead
 * of once per thread, and threads that start together split the reading between them. The bytes
 * are exactly those of the thread-local reader, so no result depends on which thread read a
 * class.
 *
 * Without an installed cache (the main thread, scripts, tests), or when waiting is not possible,
 * each thread reads its own copy, as before.
 */

/** State word of a class: nobody has it, a thread is reading it, it is in shared memory, its reading failed. */
const EMPTY = 0;
const LOADING = 1;
const READY = 2;
const FAILED = 3;

/**
 * How long a thread waits for a class that another thread is reading before it reads its own copy
 * (ms): a class takes well under a second; a reader that died (its job aborted) must not block
 * the others for ever.
 */
const WAIT_LIMIT_MS = 60_000;

/** Shared memory of one dataset's classes: one state word per class and one buffer for them all. */
export interface SharedClassSlots {
  /** `Int32Array` over a `SharedArrayBuffer`, one word per class. */
  state: Int32Array;
  /**
   * The classes' arrays one after the other (one allocation, large enough that the C library maps
   * it from the OS: pages are committed only as classes are read into them).
   */
  buffer: SharedArrayBuffer;
  /** Byte offset of class `c`'s array at `offsets[c]`, its end at `offsets[c + 1]`. */
  offsets: number[];
}

/** Shared class slots per dataset name; structured-clonable (handed to worker threads as `workerData`). */
export type SharedDataCache = Record<string, SharedClassSlots>;

/**
 * Allocate the shared slots for `layout`: per dataset name, the byte length of each class's array.
 * The memory is committed only as classes are read into it.
 */
export function createSharedDataCache(layout: Record<string, readonly number[]>): SharedDataCache {
  const cache: SharedDataCache = {};
  for (const [name, bytes] of Object.entries(layout)) {
    const offsets = [0];
    for (const b of bytes) offsets.push(offsets[offsets.length - 1] + b);
    cache[name] = { state: new Int32Array(new SharedArrayBuffer(4 * bytes.length)), buffer: new SharedArrayBuffer(offsets[bytes.length]), offsets };
  }
  return cache;
}

let installed: SharedDataCache | null = null;

/** Use `cache` in this thread from now on (`null`: thread-local copies only). */
export function installSharedDataCache(cache: SharedDataCache | null | undefined): void {
  installed = cache ?? null;
}

/** A typed-array view over `bytes` bytes of a shared buffer from `offset` (`Float64Array` or `Uint8Array`). */
type View<T> = (buffer: SharedArrayBuffer, offset: number, bytes: number) => T;

/**
 * Reads a class: into `slot` when given and it can (then returns `slot`, saving a copy), else into
 * an array of its own.
 */
type Reader<T> = (slot: T | null) => T;

/**
 * Class `c` of dataset `name` from the shared cache: read by `read` into shared memory when no
 * thread has it yet, waited for when another thread is reading it (`wait` false: returns null at
 * once instead). Returns null when there is no shared slot for it, when its reading failed in
 * another thread, or after {@link WAIT_LIMIT_MS}: the caller then reads its own copy (and reports
 * its own error). An error of `read` in this thread is thrown after marking the slot failed.
 */
function sharedClass<T extends Float64Array | Uint8Array>(name: string, c: number, read: Reader<T>, view: View<T>, wait = true): T | null {
  const slots = installed?.[name];
  if (!slots || !(c >= 0 && c < slots.state.length)) return null;
  const shared = (): T => view(slots.buffer, slots.offsets[c], slots.offsets[c + 1] - slots.offsets[c]);
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const was = Atomics.compareExchange(slots.state, c, EMPTY, LOADING);
    if (was === READY) return shared();
    if (was === FAILED) return null;
    if (was === EMPTY) return readInto(slots.state, c, shared, read);
    if (!wait || Date.now() >= deadline) return null;
    try {
      Atomics.wait(slots.state, c, LOADING, 200);
    } catch {
      return null; // this thread may not block (a main thread): read a private copy
    }
  }
}

/**
 * Class `c` from this thread's `local` cache, else from the pool's shared cache
 * ({@link sharedClass}), else read by `read` into a private copy; the result is kept in `local`.
 * With `wait` false, null when another thread is reading it.
 */
export function cachedClass<T extends Float64Array | Uint8Array>(local: Map<number, T>, name: string, c: number, read: Reader<T>, view: View<T>, wait: boolean): T | null {
  const hit = local.get(c);
  if (hit) return hit;
  const shared = sharedClass(name, c, read, view, wait);
  if (shared === null && !wait) return null;
  const out = shared ?? read(null);
  local.set(c, out);
  return out;
}

/** Read class `c` into its shared slot (claimed by this thread), publish it and wake the threads waiting for it. */
function readInto<T extends Float64Array | Uint8Array>(state: Int32Array, c: number, shared: () => T, read: Reader<T>): T {
  const publish = (s: number): void => {
    Atomics.store(state, c, s);
    Atomics.notify(state, c);
  };
  const slot = shared();
  let own: T;
  try {
    own = read(slot);
  } catch (e) {
    publish(FAILED);
    throw e;
  }
  if (own === slot) {
    publish(READY);
    return slot;
  }
  if (own.byteLength !== slot.byteLength) {
    // not the expected size (a changed package): the other threads read their own copies
    publish(FAILED);
    return own;
  }
  slot.set(own);
  publish(READY);
  return slot;
}
