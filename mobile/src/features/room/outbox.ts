// What the room shows: the server's messages, in id order, each once, and my
// own messages not yet confirmed, each with its state:
//
//   sending ──ack / upload answered──▶ sent ──the server's copy arrives──▶ (the server's message)
//      │  ▲
//  refused│  │retry (same client_id: the server answers a resend with the first copy)
//  /timeout  │
//      ▼  │
//     failed
//
// Dedupe: a message is one id whatever way it came (the ack, the live push,
// a resume page, an HTTP page), and one client_id of mine is one message.

import type { MessageKind, RoomMessage } from "./types";

export type OutboxState = "sending" | "sent" | "failed";

export interface OutboxItem {
  clientId: string;
  kind: Exclude<MessageKind, "system">;
  text: string;
  file: File | null; // for uploads; kept to retry
  previewUrl: string; // object URL of a photo being sent ("" otherwise)
  width: number | null;
  height: number | null;
  state: OutboxState;
  id: number | null; // the server's id once acknowledged
  error: string; // why it failed, in the server's words
  since: number; // ms timestamp of the last (re)try, for the ack timeout
}

/** Ms an unanswered message stays "sending" before it shows as failed. */
export const ACK_TIMEOUT_MS = 15000;

let counter = 0;
/** A client id unique to this phone and message (≤ 64 printable characters, as the server asks). */
export function newClientId(now = Date.now(), random = Math.random): string {
  counter = (counter + 1) % 1e6;
  return `m-${now.toString(36)}-${counter.toString(36)}-${Math.floor(random() * 36 ** 6).toString(36)}`;
}

export class RoomLog {
  messages: RoomMessage[] = [];
  outbox: OutboxItem[] = [];
  private ids = new Set<number>();

  /** The newest message id known (0 for none): where a resume starts. */
  get lastId(): number {
    return this.messages.length ? this.messages[this.messages.length - 1].id : 0;
  }

  get firstId(): number {
    return this.messages.length ? this.messages[0].id : 0;
  }

  /** Take in server messages from any source; returns those that were new. */
  receive(messages: RoomMessage[]): RoomMessage[] {
    const fresh = messages.filter((m) => !this.ids.has(m.id));
    if (!fresh.length) return fresh;
    for (const message of fresh) this.ids.add(message.id);
    const last = this.lastId;
    if (fresh.every((m) => m.id > last) && isSorted(fresh)) this.messages.push(...fresh);
    else this.messages = [...this.messages, ...fresh].sort((a, b) => a.id - b.id);
    const arrived = new Set(fresh.map((m) => m.client_id).filter(Boolean));
    if (arrived.size) this.outbox = this.outbox.filter((item) => !(arrived.has(item.clientId) && this.isMine(item, fresh)));
    return fresh;
  }

  private isMine(item: OutboxItem, fresh: RoomMessage[]): boolean {
    return fresh.some((m) => m.client_id === item.clientId && (item.id === null || item.id === m.id));
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  /** A new message of mine, "sending". */
  enqueue(item: Pick<OutboxItem, "clientId" | "kind" | "text"> & Partial<OutboxItem>, now = Date.now()): OutboxItem {
    const entry: OutboxItem = {
      file: null,
      previewUrl: "",
      width: null,
      height: null,
      id: null,
      error: "",
      ...item,
      state: "sending",
      since: now,
    };
    this.outbox.push(entry);
    return entry;
  }

  find(clientId: string): OutboxItem | undefined {
    return this.outbox.find((item) => item.clientId === clientId);
  }

  /** The server saved it (`ack`, or the upload's answer): "sent" until its copy arrives. */
  acknowledge(clientId: string, id: number): void {
    const item = this.find(clientId);
    if (!item) return;
    if (this.ids.has(id)) {
      this.outbox = this.outbox.filter((entry) => entry !== item); // its copy came first
      return;
    }
    item.state = "sent";
    item.id = id;
    item.error = "";
  }

  /** Refused (an error frame naming its client_id, a failed upload) or unanswered. */
  fail(clientId: string, error: string): void {
    const item = this.find(clientId);
    if (item && item.state === "sending") {
      item.state = "failed";
      item.error = error;
    }
  }

  /** Try a failed message again, under the same client id; returns it, or nothing if not failed. */
  retry(clientId: string, now = Date.now()): OutboxItem | undefined {
    const item = this.find(clientId);
    if (!item || item.state !== "failed") return undefined;
    item.state = "sending";
    item.error = "";
    item.since = now;
    return item;
  }

  /** Messages still "sending" after `timeoutMs` turn "failed" (with `error`); returns them. */
  expire(now: number, error: string, timeoutMs = ACK_TIMEOUT_MS): OutboxItem[] {
    const late = this.outbox.filter((item) => item.state === "sending" && now - item.since >= timeoutMs);
    for (const item of late) {
      item.state = "failed";
      item.error = error;
    }
    return late;
  }

  /** Texts to send again after a reconnect (the server dedupes by client id). */
  unsentTexts(): OutboxItem[] {
    return this.outbox.filter((item) => item.state === "sending" && item.kind === "text");
  }

  discard(clientId: string): void {
    this.outbox = this.outbox.filter((item) => item.clientId !== clientId);
  }

  /** The first message after `lastReadId` written by someone else: where "new messages" begins. */
  firstUnread(lastReadId: number, me: number): RoomMessage | undefined {
    return this.messages.find((m) => m.id > lastReadId && m.sender?.id !== me);
  }

  unreadCount(lastReadId: number, me: number): number {
    return this.messages.filter((m) => m.id > lastReadId && m.sender?.id !== me).length;
  }
}

function isSorted(messages: RoomMessage[]): boolean {
  return messages.every((m, i) => i === 0 || messages[i - 1].id < m.id);
}
