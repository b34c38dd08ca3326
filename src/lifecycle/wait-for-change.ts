// How a store's `waitForChange` waits: a check on a poll and whenever the store's own notifier
// (fs.watch, a Redis PUBLISH) wakes it, overlapping checks coalesced into one re-run; it ends
// when the store has moved, at the timeout, or on abort, whichever comes first. No `node:` import.

export interface ChangeWaitOptions<T> {
  timeoutMs: number;
  signal?: AbortSignal;
  /** The poll: a check every this many ms, whatever the notifier does. */
  pollMs: number;
  /**
   * Sets up the store's notifier, which calls `wake` to have the store looked at, or `moved`
   * to end the wait at once (the caller re-reads the store, unless `moved` was given what the
   * store now holds: the wait resolves with it); returns what closes it. May throw: the poll
   * alone then.
   */
  notify?: (wake: () => void, moved: (carried?: T) => void) => NotifierHandle | undefined;
}

/**
 * What closes a notifier; or that, and `lookLater: true` when a first look now is not needed:
 * either the notifier cannot hear every change yet (a subscription not yet confirmed) and will
 * call `wake` once it can, as a look before that would have to be repeated anyway; or nothing
 * can have moved since the caller's last read and the notifier hears every change from here on.
 * The wait then looks when woken, and on its poll.
 */
export type NotifierHandle = (() => void) | { close: () => void; lookLater: boolean };

export function waitUntilMoved<T = never>(moved: () => Promise<boolean>, options: ChangeWaitOptions<T>): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve) => {
    const { timeoutMs, signal, pollMs } = options;
    let done = false;
    let running = false;
    let again = false;
    let closeNotifier: (() => void) | undefined;
    const finish = (carried?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      signal?.removeEventListener('abort', stop);
      closeNotifier?.();
      resolve(carried);
    };
    const stop = () => finish();
    const check = async () => {
      if (done) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          if (await moved()) finish();
        } while (again && !done);
      } finally {
        running = false;
      }
    };
    const timer = setTimeout(stop, Math.max(0, timeoutMs));
    const poll = setInterval(() => void check(), pollMs);
    (timer as { unref?: () => void }).unref?.();
    (poll as { unref?: () => void }).unref?.();
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) return stop();
    let handle: NotifierHandle | undefined;
    try {
      handle = options.notify?.(() => void check(), finish);
    } catch {
      // no notifier here: the poll alone
    }
    closeNotifier = typeof handle === 'function' ? handle : handle?.close;
    if (done) return closeNotifier?.();
    if (typeof handle === 'object' && handle.lookLater) return;
    void check();
  });
}

/**
 * What a store remembers of its last read, so that a wait after a lost race for the lock can
 * skip its first look (`lookLater`): the token that read found, a mark of the store's own of
 * how things stood as it read (the file's identity; where the Redis subscription stood), and
 * when a lock attempt after that read found the lock taken.
 */
export class LastRead<Mark> {
  #read: { token: string | undefined; mark: Mark; lockTakenAt?: number } | undefined;

  /** At the start of a read: a read that fails leaves nothing to trust. */
  forget(): void {
    this.#read = undefined;
  }

  /** After a read that succeeded. */
  record(token: string | undefined, mark: Mark): void {
    this.#read = { token, mark };
  }

  /** At the start of a lock attempt: what notes, if it finds the lock taken, that on the read it followed (not on a later one). */
  lockAttempt(): () => void {
    const read = this.#read;
    return () => {
      if (read !== undefined && read === this.#read) read.lockTakenAt = Date.now();
    };
  }

  /**
   * The last read's mark, when that read found `seen` and a lock attempt after it found the lock
   * taken within the last `pollMs` (what no notice announces, a lease running out, is then seen
   * at most one poll later than a first look would); `undefined` otherwise: the wait looks.
   */
  quietMark(seen: string | undefined, pollMs: number): { mark: Mark } | undefined {
    const read = this.#read;
    if (read?.lockTakenAt === undefined || Date.now() - read.lockTakenAt > pollMs || read.token !== seen) return undefined;
    return { mark: read.mark };
  }
}
