// The phone's one outbox: every write the app must not lose (raising a case,
// a room message, a photo upload) is an item here, kept in IndexedDB, sent
// when the network allows, retried with backoff, and shown with its state.
// The machine is machine.ts; what each kind of item sends is handlers.ts.
import { reactive } from "vue";
import { ApiError } from "../api/http";
import { t } from "../i18n";
import { allItems, deleteItem, putItem } from "./db";
import {
  begin,
  nextToSend,
  nextWake,
  recover,
  retry as retryItem,
  settleError,
  succeed,
  wakeAll,
  type ItemKind,
  type OutboxRecord,
} from "./machine";

export interface HandlerContext {
  signal: AbortSignal;
  /** Report the request body's progress, 0–1, for the screen. */
  progress(fraction: number): void;
  /** Keep what is done so far (item.result, item.caseId) before the next step. */
  save(): Promise<void>;
}

export type Handler = (item: OutboxRecord, context: HandlerContext) => Promise<void>;
export type Listener = (item: OutboxRecord) => void;

/** Items sent longer ago than this are forgotten when the app starts. */
export const KEEP_SENT_MS = 24 * 3600 * 1000;
/** How often waiting items are looked at even without an `online` event. */
export const TICK_MS = 3000;
/** How often, at most, the outbox asks who is logged in while it does not know. */
export const IDENTIFY_MS = 5000;
/** At most this many items are sent at once (different groups). */
export const PARALLEL = 2;

export class Outbox {
  readonly items: OutboxRecord[] = reactive([]) as OutboxRecord[];
  readonly progress: Record<string, number> = reactive({});
  private controllers = new Map<string, AbortController>();
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private ready: Promise<void> | null = null;

  /**
   * `whoAmI`: the logged-in user's id (null: nobody, or not known yet). An item is
   * sent only while the person who queued it is logged in on this phone: a
   * colleague logging in on the same phone never sends it as themselves.
   */
  constructor(
    private handlers: Record<ItemKind, Handler>,
    private whoAmI: () => number | null = () => null,
    private now: () => number = Date.now,
    private identify: () => Promise<unknown> = async () => undefined,
  ) {}
  private identifiedAt = -Infinity;

  /** Load the stored items and start sending (idempotent). */
  start(): Promise<void> {
    this.ready ??= (async () => {
      const stored = await allItems();
      const now = this.now();
      for (const item of stored.sort((a, b) => a.seq - b.seq)) {
        if (item.state === "sent" && item.sentAt !== null && now - item.sentAt > KEEP_SENT_MS) {
          await deleteItem(item.id);
          continue;
        }
        if (this.items.some((i) => i.id === item.id)) continue;
        recover(item, now);
        this.items.push(item);
      }
      if (typeof window !== "undefined") {
        window.addEventListener("online", () => this.wake());
        this.timer = setInterval(() => this.pump(), TICK_MS);
      }
      this.pump();
    })();
    return this.ready;
  }

  stop(): void {
    clearInterval(this.timer);
    for (const controller of this.controllers.values()) controller.abort();
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(id: string): OutboxRecord | undefined {
    return this.items.find((i) => i.id === id);
  }

  /** Queue an item (stored before this resolves) and try to send it at once. */
  async add(record: OutboxRecord): Promise<OutboxRecord> {
    await this.start();
    record.owner ??= this.whoAmI();
    await putItem(record);
    this.items.push(record);
    const item = this.get(record.id) as OutboxRecord; // the reactive one
    this.notify(item);
    this.pump();
    return item;
  }

  /** The network is back (or the person asked): every waiting item may go now. */
  wake(): void {
    wakeAll(this.items, this.now());
    this.pump();
  }

  /** Start every item whose turn it is. */
  pump(): void {
    const busy = this.items.filter((i) => i.state === "sending").length;
    if (busy >= PARALLEL) return;
    const user = this.whoAmI();
    if (user === null) {
      // not known yet (the app opened with no server): ask who is logged in, now and then
      const now = this.now();
      if (this.items.some((i) => i.state === "waiting") && now - this.identifiedAt >= IDENTIFY_MS) {
        this.identifiedAt = now;
        this.identify().then(
          () => this.whoAmI() !== null && this.pump(),
          () => undefined,
        );
      }
      return;
    }
    const theirs = this.items.filter((i) => i.owner === user);
    for (const item of nextToSend(theirs, this.now(), PARALLEL - busy)) void this.run(item);
  }

  private async run(item: OutboxRecord): Promise<void> {
    begin(item);
    const controller = new AbortController();
    this.controllers.set(item.id, controller);
    this.progress[item.id] = 0;
    this.notify(item);
    const save = () => putItem(item);
    try {
      await save();
      await this.handlers[item.kind](item, {
        signal: controller.signal,
        progress: (fraction) => (this.progress[item.id] = Math.max(0, Math.min(1, fraction))),
        save,
      });
      succeed(item, this.now());
    } catch (error) {
      settleError(item, error, describe(error), this.now());
    } finally {
      this.controllers.delete(item.id);
      delete this.progress[item.id];
    }
    if (this.get(item.id)) await putItem(item); // not if discarded meanwhile
    this.notify(item);
    this.pump();
  }

  /** Try a failed item again now (the same keys: nothing is made twice). */
  async retry(id: string): Promise<void> {
    const item = this.get(id);
    if (!item || !retryItem(item, this.now())) return;
    await putItem(item);
    this.notify(item);
    this.pump();
  }

  /** Stop an upload in flight: it fails as "cancelled" and may be retried or discarded. */
  cancel(id: string): void {
    this.controllers.get(id)?.abort();
  }

  /** Forget an item (cancelling it if it is being sent). */
  async discard(id: string): Promise<void> {
    const index = this.items.findIndex((i) => i.id === id);
    if (index < 0) return;
    const [item] = this.items.splice(index, 1);
    this.controllers.get(id)?.abort();
    await deleteItem(id);
    item.state = "failed";
    item.error = t("outbox.discarded");
    this.notify(item, true);
  }

  /** Resolves after the item's first try ends (sent, failed, or waiting for another try). */
  settled(id: string): Promise<OutboxRecord | undefined> {
    return new Promise((resolve) => {
      const check = (item: OutboxRecord | undefined) => {
        if (!item || item.state === "sent" || item.state === "failed" || (item.state === "waiting" && item.attempts > 0)) {
          off();
          resolve(item);
          return true;
        }
        return false;
      };
      const off = this.on((changed) => {
        if (changed.id === id) check(this.get(id) ?? changed);
      });
      const item = this.get(id);
      if (item && item.state === "waiting" && item.attempts > 0) {
        off();
        resolve(item);
      } else if (!item) {
        off();
        resolve(undefined);
      } else if (item.state === "sent" || item.state === "failed") check(item);
    });
  }

  /** When the next waiting item becomes due (ms timestamp; Infinity: none). */
  get nextTry(): number {
    return nextWake(this.items);
  }

  private notify(item: OutboxRecord, gone = false): void {
    void gone;
    for (const listener of this.listeners) listener(item);
  }
}

/** The reason shown for a failed try: the server's own words, or what went wrong. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if ((error as Error)?.name === "AbortError") return t("outbox.cancelled");
  return t("outbox.unexpected");
}
