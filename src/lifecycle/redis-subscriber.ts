// The Redis store's change notifier: ONE subscriber connection per node-redis client, shared by
// every RedisTokenStore on that client. Opened on a store's first lock attempt or wait
// (`client.duplicate()`), subscribed to each store's `<key>:events` channel once and kept
// subscribed, so a later wait costs no connection and no round trip; `unref()`ed, so it never
// keeps a process alive; closed when the client ends (node-redis emits 'end' on
// quit/close/destroy). node-redis re-subscribes after a reconnect; messages PUBLISHed in the
// gap are missed, so every waiter is woken to look (and the waits' poll stays on throughout).
// It counts what each channel heard, so a store can tell that nothing moved since a read
// (`markOf`, `quietSince`): every save and release PUBLISHes.
import type { RedisClientLike, RedisSubscriberLike } from './redis-token-store.js';

/** One wait's callbacks. */
export interface ChannelWaiter {
  /** A message arrived on the channel. */
  message(text: string): void;
  /** Look at the store: the subscription became active (first confirmed, or back after a reconnect), or failed (the poll alone then). */
  look(): void;
}

const subscribers = new WeakMap<RedisClientLike, Subscriber>();
const watchedClients = new WeakSet<RedisClientLike>();

/**
 * Registers `waiter` for `channel` on `client`'s shared subscriber; returns what unregisters it,
 * and whether the channel's subscription is still being set up (then `waiter.look` is called once
 * it is active). May throw (no subscriber: the poll alone).
 */
export function listenOn(client: RedisClientLike, channel: string, waiter: ChannelWaiter): { close: () => void; lookLater: boolean } {
  let subscriber = subscribers.get(client);
  if (subscriber === undefined || !subscriber.usable) {
    subscriber?.abandon();
    subscriber = new Subscriber(client.duplicate());
    subscribers.set(client, subscriber);
    closeWithClient(client);
  }
  return subscriber.listen(channel, waiter);
}

/**
 * Subscribes `client`'s shared subscriber to `channel` now, with no waiter, so that the first
 * wait on it finds it listening. Best effort: a failure leaves the subscription to that wait.
 */
export function keepListening(client: RedisClientLike, channel: string): void {
  try {
    listenOn(client, channel, { message() {}, look() {} }).close(); // subscribes the channel once; a no-op after that
  } catch {
    // no subscriber: the waits subscribe (or poll) themselves
  }
}

/** Where `channel`'s subscription stood at one moment, while it was listening; see `quietSince`. */
export interface ListenMark {
  readonly subscriber: object;
  readonly entry: object;
  readonly heard: number;
}

/** A mark of `channel` now, or `undefined` when `client`'s subscriber is not listening to it (yet). */
export function markOf(client: RedisClientLike, channel: string): ListenMark | undefined {
  const subscriber = subscribers.get(client);
  const entry = subscriber?.listening(channel);
  return subscriber && entry && { subscriber, entry, heard: entry.heard };
}

/**
 * True when `channel` has been listened to without a break since `mark` and nothing has arrived
 * on it: every save and release PUBLISHes there, so the store cannot have changed since.
 */
export function quietSince(client: RedisClientLike, channel: string, mark: ListenMark | undefined): boolean {
  if (mark === undefined || subscribers.get(client) !== mark.subscriber) return false;
  return (mark.subscriber as Subscriber).listening(channel) === mark.entry && (mark.entry as Channel).heard === mark.heard;
}

/** Closes the subscriber with the client it was duplicated from (when the client can tell: `on('end')`). */
function closeWithClient(client: RedisClientLike): void {
  if (watchedClients.has(client) || typeof client.on !== 'function') return;
  watchedClients.add(client);
  client.on('end', () => {
    subscribers.get(client)?.close();
    subscribers.delete(client);
  });
}

interface Channel {
  readonly waiters: Set<ChannelWaiter>;
  /** SUBSCRIBE confirmed. */
  active: boolean;
  /** Messages heard, plus one for every reconnect (messages may have been missed then). */
  heard: number;
}

class Subscriber {
  readonly #connection: RedisSubscriberLike;
  readonly #channels = new Map<string, Channel>();
  readonly #connected: Promise<unknown>;
  #settled = false;
  #closed = false;

  constructor(connection: RedisSubscriberLike) {
    this.#connection = connection;
    connection.on('error', () => undefined); // the waits' poll goes on; node-redis reconnects
    connection.on('end', () => (this.#closed = true));
    // After a reconnect (node-redis has re-subscribed by then): a message may have been lost.
    connection.on('ready', () => {
      if (this.#settled) this.#wakeAll();
    });
    connection.unref?.(); // before connect(): node-redis unrefs every socket it opens after this
    this.#connected = connection.connect().finally(() => (this.#settled = true));
    this.#connected.catch(() => this.close());
  }

  /** False once closed, or when it dropped after connecting (a reconnect under way, or given up): a wait then opens a new one. */
  get usable(): boolean {
    return !this.#closed && !(this.#settled && this.#connection.isReady === false);
  }

  /** The channel's entry while its subscription is active on a usable connection. */
  listening(channel: string): Channel | undefined {
    const entry = this.#channels.get(channel);
    return entry?.active && this.usable ? entry : undefined;
  }

  listen(channel: string, waiter: ChannelWaiter): { close: () => void; lookLater: boolean } {
    let entry = this.#channels.get(channel);
    if (entry === undefined) {
      const created: Channel = { waiters: new Set(), active: false, heard: 0 };
      entry = created;
      this.#channels.set(channel, created);
      const heard = (text: string) => {
        created.heard++;
        each(created, (w) => w.message(text));
      };
      this.#connected
        .then(() => this.#connection.subscribe(channel, heard))
        .then(
          () => {
            created.active = true;
            each(created, (w) => w.look());
          },
          () => {
            // Not subscribed: the next wait tries again; the waits meanwhile poll.
            if (this.#channels.get(channel) === created) this.#channels.delete(channel);
            each(created, (w) => w.look());
          },
        );
    }
    const mine = entry;
    mine.waiters.add(waiter);
    return { close: () => void mine.waiters.delete(waiter), lookLater: !mine.active };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (typeof this.#connection.destroy === 'function') this.#connection.destroy();
      else void this.#connection.disconnect?.().catch(() => undefined);
    } catch {
      // already closed
    }
  }

  /** Closes it for a replacement: its waiters hear nothing more from it, so each looks now (and polls on). */
  abandon(): void {
    this.close();
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const entry of this.#channels.values()) {
      entry.heard++;
      each(entry, (w) => w.look());
    }
  }
}

function each(entry: Channel, call: (waiter: ChannelWaiter) => void): void {
  for (const waiter of [...entry.waiters]) call(waiter);
}
