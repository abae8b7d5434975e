import { afterEach, describe, expect, it, vi } from "vitest";
import { api, toApiError } from "./http";

describe("toApiError", () => {
  it("keeps the server's code, Chinese message and field errors", () => {
    const error = toApiError(400, {
      error: { code: "invalid", message: "请检查填写的内容。", fields: { title: ["此字段为必填项。"] } },
    });
    expect([error.status, error.code, error.message]).toEqual([400, "invalid", "请检查填写的内容。"]);
    expect(error.fields).toEqual({ title: ["此字段为必填项。"] });
  });

  it("says something readable when the body is not the error shape", () => {
    const error = toApiError(502, null);
    expect(error.code).toBe("http_502");
    expect(error.message).toBe("出现错误（502），请稍后再试");
  });
});

describe("a write with no CSRF cookie (the shell came from the service worker)", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("fetches the cookie first, then sends it", async () => {
    document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
    const calls: { url: string; token?: string }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: URL, init: RequestInit) => {
        calls.push({ url: String(url), token: (init.headers as Record<string, string>)["X-CSRFToken"] });
        if (String(url).endsWith("/auth/session/")) document.cookie = "csrftoken=abc; path=/";
        return new Response(null, { status: 204 });
      }),
    );
    await api("cases/1/accept/", { method: "POST", body: {} });
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual(["/api/v1/auth/session/", "/api/v1/cases/1/accept/"]);
    expect(calls[1].token).toBe("abc");
  });
});
