import { describe, expect, it } from "vitest";
import { toApiError } from "./http";

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
