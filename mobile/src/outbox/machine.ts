// The outbox's state machine, pure (no IndexedDB, no network): what each item
// is, which item may go next, and what an answer does to it.
//
//   waiting ──due, its turn──▶ sending ──2xx──▶ sent
//      ▲                          │
//      └─ network / 5xx / 429 ────┤  (attempts+1, next try after a backoff)
//                                 └─ 4xx (refused) / cancelled ──▶ failed ──retry──▶ waiting
//                                                                     └──discard──▶ (gone)
//
// Items of one group (a room, a case being raised) go one at a time in the
// order they were queued, so five messages typed offline arrive in order; a
// failed item does not hold back the ones after it (it was refused; retrying
// it later puts it after them).
import { ApiError } from "../api/http";
import { reconnectDelay, type Backoff } from "../features/room/backoff";

export type ItemState = "waiting" | "sending" | "sent" | "failed";
export type ItemKind = "case" | "message" | "upload";

export interface OutboxRecord<P = unknown, R = unknown> {
  id: string; // unique, made on the phone
  kind: ItemKind;
  group: string; // "room:12", "draft:<id>": one at a time, in seq order
  seq: number; // queue order (ms timestamp × 1000 + counter)
  state: ItemState;
  attempts: number; // failed tries since the last (re)start
  nextAt: number; // ms timestamp before which a waiting item is not tried
  error: string; // why the last try failed or why it was refused, in the server's words
  status: number; // HTTP status of the refusal (0: network, -1: cancelled)
  caseId: number | null; // the case it made or acts on, once known
  owner: number | null; // the user who queued it: sent only while they are logged in
  createdAt: number;
  sentAt: number | null;
  payload: P; // what to send (Blobs included)
  result: R | null; // what has been done so far (upload ids, the case id …)
}

/** Waits between tries: 1 s doubling to 60 s, with jitter (features/room/backoff.ts). */
export const OUTBOX_BACKOFF: Backoff = { base: 1000, cap: 60000 };

let counter = 0;
/** A queue position: later calls get larger numbers, even within one millisecond. */
export function nextSeq(now = Date.now()): number {
  counter = (counter + 1) % 1000;
  return now * 1000 + counter;
}

/** A key unique to this phone and write (≤ 64 printable ASCII, as the server's client_id asks). */
export function newKey(prefix: string, now = Date.now(), random = Math.random): string {
  const r = () => Math.floor(random() * 36 ** 6).toString(36).padStart(6, "0");
  return `${prefix}-${now.toString(36)}-${r()}${r()}`;
}

export function newRecord<P>(
  fields: Pick<OutboxRecord<P>, "kind" | "group" | "payload"> & Partial<OutboxRecord<P>>,
  now = Date.now(),
): OutboxRecord<P> {
  return {
    id: newKey(fields.kind, now),
    seq: nextSeq(now),
    state: "waiting",
    attempts: 0,
    nextAt: now,
    error: "",
    status: 0,
    caseId: null,
    owner: null,
    createdAt: now,
    sentAt: null,
    result: null,
    ...fields,
  };
}

export type Verdict = "retry" | "refused" | "cancelled";

/**
 * What an error means for the item: a network failure, a server error, too
 * many requests, not logged in (yet) or a duplicate still running → try again
 * later; any other 4xx is the server's refusal → failed, not retried by itself;
 * an abort the person asked for → cancelled.
 */
export function classify(error: unknown): Verdict {
  if (error instanceof DOMException && error.name === "AbortError") return "cancelled";
  if ((error as Error)?.name === "AbortError") return "cancelled";
  if (!(error instanceof ApiError)) return "retry";
  if (error.status === 0 || error.status >= 500 || error.status === 408 || error.status === 429) return "retry";
  if (error.status === 401 || error.code === "not_authenticated" || error.code === "authentication_failed") return "retry";
  if (error.code === "idempotency_key_in_progress") return "retry";
  return "refused";
}

export function isDue(item: OutboxRecord, now: number): boolean {
  return item.state === "waiting" && item.nextAt <= now;
}

/** The items to start now: per group the first not yet sent or failed, if it is waiting and due. */
export function nextToSend(items: OutboxRecord[], now: number, limit = Infinity): OutboxRecord[] {
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  const seen = new Set<string>();
  const ready: OutboxRecord[] = [];
  for (const item of sorted) {
    if (item.state === "sent" || item.state === "failed" || seen.has(item.group)) continue;
    seen.add(item.group);
    if (isDue(item, now)) ready.push(item);
  }
  return ready.slice(0, limit);
}

/** The earliest moment a waiting item becomes due (Infinity: none waits). */
export function nextWake(items: OutboxRecord[]): number {
  return Math.min(Infinity, ...items.filter((i) => i.state === "waiting").map((i) => i.nextAt));
}

export function begin(item: OutboxRecord): void {
  if (item.state !== "waiting") throw new Error(`cannot send an item that is ${item.state}`);
  item.state = "sending";
}

export function succeed(item: OutboxRecord, now = Date.now()): void {
  item.state = "sent";
  item.error = "";
  item.status = 0;
  item.sentAt = now;
}

/** The try failed: retried after a backoff, or failed for good, as `classify` says. */
export function settleError(
  item: OutboxRecord,
  error: unknown,
  message: string,
  now = Date.now(),
  random: () => number = Math.random,
  backoff = OUTBOX_BACKOFF,
): Verdict {
  const verdict = classify(error);
  item.error = message;
  item.status = verdict === "cancelled" ? -1 : error instanceof ApiError ? error.status : 0;
  if (verdict === "retry") {
    item.state = "waiting";
    item.nextAt = now + reconnectDelay(item.attempts, backoff, random);
    item.attempts += 1;
  } else {
    item.state = "failed";
  }
  return verdict;
}

/** The person asks to try a failed (or waiting) item again, now. */
export function retry(item: OutboxRecord, now = Date.now()): boolean {
  if (item.state !== "failed" && item.state !== "waiting") return false;
  item.state = "waiting";
  item.attempts = 0;
  item.nextAt = now;
  item.error = "";
  item.status = 0;
  return true;
}

/** The network came back: every waiting item may go at once. */
export function wakeAll(items: OutboxRecord[], now = Date.now()): void {
  for (const item of items) if (item.state === "waiting") item.nextAt = Math.min(item.nextAt, now);
}

/** An item left "sending" by a closed tab or a crash is waiting again (its key makes a resend safe). */
export function recover(item: OutboxRecord, now = Date.now()): void {
  if (item.state === "sending") {
    item.state = "waiting";
    item.nextAt = now;
  }
}
