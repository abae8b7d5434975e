// The phone's own store (IndexedDB through idb): the outbox's items, the drafts
// of cases being raised (photos and voice notes as Blobs) and the ids the
// server gave photos already uploaded. Survives a reload, a closed tab, a crash.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import { toRaw } from "vue";
import type { OutboxRecord } from "./machine";
import type { LocalDraft } from "./drafts";

export const DB_NAME = "jinshao-phone";

interface PhoneDB extends DBSchema {
  items: { key: string; value: OutboxRecord };
  drafts: { key: string; value: LocalDraft };
  uploads: { key: string; value: { key: string; id: string } }; // photo key → PhotoUpload id
}

let opened: Promise<IDBPDatabase<PhoneDB>> | null = null;

export function db(): Promise<IDBPDatabase<PhoneDB>> {
  opened ??= openDB<PhoneDB>(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore("items", { keyPath: "id" });
      database.createObjectStore("drafts", { keyPath: "id" });
      database.createObjectStore("uploads", { keyPath: "key" });
    },
  });
  return opened;
}

/** For tests: forget the open connection (fake-indexeddb is reset between them). */
export function closeDb(): void {
  void opened?.then((d) => d.close());
  opened = null;
}

export async function putItem(item: OutboxRecord): Promise<void> {
  // the raw object: Vue's reactive proxies cannot be cloned into IndexedDB
  const raw = toRaw(item);
  await (await db()).put("items", { ...raw, payload: toRaw(raw.payload), result: raw.result ? plain(raw.result) : null });
}
export async function deleteItem(id: string): Promise<void> {
  await (await db()).delete("items", id);
}
export async function allItems(): Promise<OutboxRecord[]> {
  return (await db()).getAll("items");
}

export async function putDraft(draft: LocalDraft): Promise<void> {
  await (await db()).put("drafts", toRaw(draft));
}
export async function getDraft(id: string): Promise<LocalDraft | undefined> {
  return (await db()).get("drafts", id);
}
export async function deleteDraft(id: string): Promise<void> {
  await (await db()).delete("drafts", id);
}
export async function allDrafts(): Promise<LocalDraft[]> {
  return (await db()).getAll("drafts");
}

export async function uploadedId(key: string): Promise<string | undefined> {
  return (await (await db()).get("uploads", key))?.id;
}
export async function rememberUpload(key: string, id: string): Promise<void> {
  await (await db()).put("uploads", { key, id });
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
