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
