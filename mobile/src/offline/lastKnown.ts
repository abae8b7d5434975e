// Read an address from the server and keep its answer on the phone; while the
// answer is on its way (or when it cannot come), show the last one kept, marked
// with when it was saved. Only ever for the person who read it (see store.ts).
import { api, ApiError, UNREACHABLE_STATUSES, type RequestOptions } from "../api/http";
import { MemoryStore, IdbStore, type Known, type KnownStore } from "./store";

/** What a screen shows: `savedAt` null = fresh from the server, else the phone's copy's time (ms). */
export interface Shown<T> {
  data: T;
  savedAt: number | null;
}

type Query = RequestOptions["query"];

/** localStorage key: the id of the person whose data the phone keeps (a number, nothing else). */
export const OWNER_KEY = "jinshao.offline.owner";

let store: KnownStore = typeof indexedDB === "undefined" ? new MemoryStore() : new IdbStore();

/** Swap the store (tests). */
export function setStore(next: KnownStore): void {
  store = next;
}

export function owner(): number | null {
  try {
    const value = Number(localStorage.getItem(OWNER_KEY));
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

/** The person now using the app: someone else's copies (if any were left) are dropped first. */
export async function claimOwner(user: number): Promise<void> {
  const before = owner();
  if (before === user) return;
  await store.clear(null).catch(() => undefined);
  try {
    localStorage.setItem(OWNER_KEY, String(user));
  } catch {
    /* private mode: nothing is kept then */
  }
}

/** Forget everything kept on this phone (log-out; the session lost: 401/403). */
export async function forgetAll(): Promise<void> {
  try {
    localStorage.removeItem(OWNER_KEY);
  } catch {
    /* nothing stored */
  }
  await store.clear(null).catch(() => undefined);
}

/** A stable address for path + query (keys sorted, empty values left out). */
export function address(path: string, query: Query = {}): string {
  const params = Object.entries(query ?? {})
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return params.length ? `${path}?${params.join("&")}` : path;
}

function keyOf(user: number | null, where: string): string | null {
  return user === null ? null : `${user}|${where}`;
}

/** Keep `data` as the last known answer at `where` for the current owner. */
export async function remember<T>(where: string, data: T, now = Date.now()): Promise<void> {
  const user = owner();
  const key = keyOf(user, where);
  if (key === null || user === null) return;
  const record: Known = { key, user, address: where, data: JSON.parse(JSON.stringify(data)), savedAt: now };
  await store.put(record).catch(() => undefined);
}

/** The last known answer at `where` for the current owner, if any. */
export async function recall<T>(where: string): Promise<Shown<T> | null> {
  const key = keyOf(owner(), where);
  if (key === null) return null;
  const record = await store.get(key).catch(() => undefined);
  return record ? { data: record.data as T, savedAt: record.savedAt } : null;
}

export async function forget(where: string): Promise<void> {
  const key = keyOf(owner(), where);
  if (key !== null) await store.delete(key).catch(() => undefined);
}

/**
 * GET `path` (under /api/v1/) and call `show` with what to display: first the phone's
 * copy if it is read before the server answers, then the server's answer (which is
 * kept). When the server cannot be reached, resolves with the copy (already shown) or
 * throws the network ApiError when there is none. A refusal (401/403/404) drops the
 * copy and is thrown: losing access ends it on the phone too. `where` overrides the
 * key (a page whose query changes, like a room's newest messages).
 */
export async function readThrough<T>(
  path: string,
  show: (shown: Shown<T>) => void,
  options: { query?: Query; where?: string; signal?: AbortSignal } = {},
): Promise<Shown<T>> {
  const where = options.where ?? address(path, options.query);
  let settled = false;
  const copy = recall<T>(where);
  void copy.then((known) => {
    if (!settled && known) show(known);
  });
  try {
    const data = await api<T>(path, { query: options.query, signal: options.signal });
    settled = true;
    const shown = { data, savedAt: null };
    show(shown);
    await remember(where, data);
    return shown;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 0 || UNREACHABLE_STATUSES.includes(error.status))) {
      const known = await copy; // shown by the callback above, which ran first
      if (known) return known;
      throw error;
    }
    settled = true;
    if (error instanceof ApiError && [401, 403, 404].includes(error.status)) await forget(where);
    throw error;
  }
}
