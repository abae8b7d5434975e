import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("currentUser", () => {
  it("asks me/ once however many screens ask at the start, then remembers", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ id: 7, name: "张三", roles: [] }), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    const { currentUser } = await import("./session");
    const [a, b] = await Promise.all([currentUser(), currentUser()]);
    expect(a).toMatchObject({ id: 7 });
    expect(b).toBe(a);
    await currentUser();
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("takes a refused me/ as logged out", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ error: { code: "not_authenticated", message: "请先登录" } }), { status: 401 }));
    vi.stubGlobal("fetch", fetchMock);
    const { currentUser, me } = await import("./session");
    expect(await currentUser()).toBeNull();
    expect(me.value).toBeNull();
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});

describe("logging out with no network", () => {
  it("forgets the person at once and ends the server's session when the phone reaches it", async () => {
    localStorage.clear();
    document.cookie = "csrftoken=abc";
    const calls: string[] = [];
    let online = false;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: URL | string, init?: RequestInit) => {
        calls.push(`${init?.method ?? "GET"} ${new URL(String(url)).pathname}`);
        if (!online) throw new TypeError("Failed to fetch");
        if (init?.method === "DELETE") return new Response(null, { status: 204 });
        return new Response(JSON.stringify({ error: { code: "not_authenticated", message: "请先登录" } }), { status: 401 });
      }),
    );
    const session = await import("./session");
    await session.logOut(); // no network: not refused, remembered
    expect(session.me.value).toBeNull();
    expect(localStorage.getItem(session.LOGOUT_PENDING)).toBe("1");
    // still no network: the app stays logged out, whatever the cookie says
    expect(await session.loadMe()).toBeNull();
    // the network is back: the log-out goes first, then nothing is left waiting
    online = true;
    expect(await session.loadMe()).toBeNull();
    expect(localStorage.getItem(session.LOGOUT_PENDING)).toBeNull();
    expect(calls.filter((c) => c === "DELETE /api/v1/auth/session/")).toHaveLength(3);
    expect(calls.at(-1)).toBe("GET /api/v1/me/");
  });
});
