import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { address, claimOwner, forgetAll, owner, readThrough, recall, remember, setStore, type Shown } from "./lastKnown";
import { MemoryStore } from "./store";
import { isSessionLost, networkState, noteReachable, noteUnreachable, onBackOnline } from "./network";
import { savedAtText } from "./time";

function answer(status: number, body: unknown) {
  return Promise.resolve(new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

let store: MemoryStore;
beforeEach(async () => {
  store = new MemoryStore();
  setStore(store);
  localStorage.clear();
  await claimOwner(7);
});
afterEach(() => {
  vi.unstubAllGlobals();
  noteReachable();
});

describe("the phone's copy of what it read", () => {
  it("keeps the server's answer for the person and shows it when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(() => answer(200, { results: [{ id: 1 }] })));
    const fresh: Shown<unknown>[] = [];
    await readThrough("cases/", (s) => fresh.push(s), { query: { state: "draft" } });
    expect(fresh).toEqual([{ data: { results: [{ id: 1 }] }, savedAt: null }]);

    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    const offline: Shown<unknown>[] = [];
    const shown = await readThrough("cases/", (s) => offline.push(s), { query: { state: "draft" } });
    expect(shown.data).toEqual({ results: [{ id: 1 }] });
    expect(shown.savedAt).toEqual(expect.any(Number));
    expect(offline).toEqual([shown]); // shown once, marked with its time
    expect(networkState.value).not.toBe("online");
  });

  it("shows nothing stale once the server has answered, and fails when there is no copy", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(readThrough("cases/12/", () => undefined)).rejects.toMatchObject({ status: 0, code: "network" });
  });

  it("keeps copies per person: another person never sees them", async () => {
    await remember("cases/", { mine: true });
    await claimOwner(8); // someone else logs in on this phone
    expect(await recall("cases/")).toBeNull();
    expect(store.records.size).toBe(0);
  });

  it("forgets everything at log-out", async () => {
    await remember("cases/", { mine: true });
    await remember("me/", { id: 7 });
    await forgetAll();
    expect(owner()).toBeNull();
    expect(store.records.size).toBe(0);
  });

  it("forgets a case the server now refuses (access lost)", async () => {
    await remember("cases/12/", { id: 12 });
    vi.stubGlobal("fetch", vi.fn(() => answer(404, { error: { code: "not_found", message: "未找到。" } })));
    await expect(readThrough("cases/12/", () => undefined)).rejects.toMatchObject({ status: 404 });
    expect(await recall("cases/12/")).toBeNull();
  });

  it("forgets everything when the session is lost (403 not logged in)", async () => {
    const { startOffline } = await import("./index");
    startOffline();
    await remember("cases/", { mine: true });
    vi.stubGlobal("fetch", vi.fn(() => answer(403, { error: { code: "not_authenticated", message: "未登录。" } })));
    await expect(readThrough("cases/", () => undefined)).rejects.toMatchObject({ status: 403 });
    await vi.waitFor(() => expect(store.records.size).toBe(0));
    expect(owner()).toBeNull();
  });

  it("names an address the same whatever the order of its query", () => {
    expect(address("cases/", { state: "x", q: "", overdue: undefined, b: 1 })).toBe("cases/?b=1&state=x");
    expect(address("cases/")).toBe("cases/");
  });
});

describe("the network banner's state", () => {
  it("is unreachable after a failed call while online, and back online after any answer", () => {
    const back = vi.fn();
    const off = onBackOnline(back);
    noteUnreachable();
    expect(networkState.value).toBe("unreachable");
    noteReachable();
    expect(networkState.value).toBe("online");
    expect(back).toHaveBeenCalledTimes(1);
    off();
  });
  it("takes 401 and a 403 'not logged in' for a lost session, not a 403 on one case", () => {
    expect(isSessionLost(401, "not_authenticated")).toBe(true);
    expect(isSessionLost(403, "not_authenticated")).toBe(true);
    expect(isSessionLost(403, "permission_denied")).toBe(false);
    expect(isSessionLost(404, "not_found")).toBe(false);
  });
});

describe("when a copy was saved", () => {
  it("reads as a time today, a date otherwise", () => {
    const now = new Date(2026, 10, 30, 15, 0).getTime();
    expect(savedAtText(new Date(2026, 10, 30, 9, 5).getTime(), now)).toBe("09:05");
    expect(savedAtText(new Date(2026, 10, 28, 14, 5).getTime(), now)).toBe("11月28日 14:05");
    expect(savedAtText(new Date(2025, 0, 2, 8, 0).getTime(), now)).toBe("2025年1月2日 08:00");
  });
});
