import { describe, expect, it } from "vitest";
import { ApiError, toApiError } from "../api/http";
import { loginRefusal } from "./errors";

const refusal = (status: number, code: string, message = "服务器的话") =>
  loginRefusal(toApiError(status, { error: { code, message } }));

describe("loginRefusal", () => {
  it("says a wrong password plainly, with the lock-out warning", () => {
    const r = refusal(401, "authentication_failed", "No active account");
    expect(r.title).toBe("账号或密码不正确");
    expect(r.message).toContain("5 次");
    expect(r.next).toBe("retry");
  });
  it("shows the server's own words when locked out or throttled", () => {
    expect(refusal(403, "locked_out", "请 30 分钟后再试")).toEqual({ title: "账号已被暂时锁定", message: "请 30 分钟后再试", next: "wait" });
    expect(refusal(429, "throttled", "请 12 秒后再试")).toMatchObject({ title: "尝试过于频繁", next: "wait" });
  });
  it("asks for the second factor, or sends to set it up", () => {
    expect(refusal(401, "second_factor_required").next).toBe("otp");
    expect(refusal(403, "second_factor_setup_required").next).toBe("back_office");
  });
  it("survives the network and unknown errors", () => {
    expect(loginRefusal(new ApiError(0, "network", "无法连接服务器")).message).toBe("无法连接服务器");
    expect(loginRefusal(new Error("x")).title).toBe("登录失败");
  });
});
