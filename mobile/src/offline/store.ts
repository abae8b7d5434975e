// The phone's copy of the last answers it read (my cases, a case, a room's newest
// messages), shown while the network is away or slow and marked as such. Kept in
// IndexedDB (idb), one record per (person, address), and only for the person who
// read it: forgotten at log-out and when the session is lost (401/403), and an
// address the server refuses (403/404) is forgotten on its own.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";

export interface Known<T = unknown> {
  key: string; // `${user}|${address}`
  user: number;
  address: string; // e.g. "cases/?state=draft", "cases/12/"
  data: T;
  savedAt: number; // ms since the epoch, when the server gave it
}

/** Where the records live: IndexedDB in the browser, a Map in tests. */
export interface KnownStore {
  get(key: string): Promise<Known | undefined>;
  put(record: Known): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every record of `user` (or of everyone when null). */
  clear(user: number | null): Promise<void>;
}

/** Records kept per person: the oldest beyond this are dropped (a phone's storage is small). */
export const KEEP_PER_USER = 200;

interface Schema extends DBSchema {
  known: { key: string; value: Known; indexes: { user: number; savedAt: number } };
}

export class IdbStore implements KnownStore {
  private db: Promise<IDBPDatabase<Schema>> | null = null;

  private open(): Promise<IDBPDatabase<Schema>> {
    this.db ??= openDB<Schema>("jinshao-offline", 1, {
      upgrade(db) {
        const known = db.createObjectStore("known", { keyPath: "key" });
        known.createIndex("user", "user");
        known.createIndex("savedAt", "savedAt");
      },
    });
    return this.db;
  }

  async get(key: string): Promise<Known | undefined> {
    return (await this.open()).get("known", key);
  }

  async put(record: Known): Promise<void> {
    const db = await this.open();
    await db.put("known", record);
    const keys = await db.getAllKeysFromIndex("known", "user", record.user);
    if (keys.length > KEEP_PER_USER) {
      const all = await db.getAllFromIndex("known", "user", record.user);
      all.sort((a, b) => a.savedAt - b.savedAt);
      const tx = db.transaction("known", "readwrite");
      await Promise.all([...all.slice(0, all.length - KEEP_PER_USER).map((r) => tx.store.delete(r.key)), tx.done]);
    }
  }

  async delete(key: string): Promise<void> {
    await (await this.open()).delete("known", key);
  }

  async clear(user: number | null): Promise<void> {
    const db = await this.open();
    if (user === null) return db.clear("known");
    const tx = db.transaction("known", "readwrite");
    const keys = await tx.store.index("user").getAllKeys(user);
    await Promise.all([...keys.map((k) => tx.store.delete(k)), tx.done]);
  }
}

export class MemoryStore implements KnownStore {
  records = new Map<string, Known>();
  async get(key: string) {
    return this.records.get(key);
  }
  async put(record: Known) {
    this.records.set(record.key, structuredClone(record));
  }
  async delete(key: string) {
    this.records.delete(key);
  }
  async clear(user: number | null) {
    for (const [key, record] of this.records) if (user === null || record.user === user) this.records.delete(key);
  }
}
