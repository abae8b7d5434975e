import { describe, expect, it } from "vitest";
import { answerText, deadlineText, stateTag } from "./states";

describe("stateTag", () => {
  it("colours waiting states and leaves unknown ones plain", () => {
    expect(stateTag("pending_review")).toBe("warning");
    expect(stateTag("in_progress")).toBe("primary");
    expect(stateTag("whatever")).toBe("default");
  });
});

describe("deadlineText", () => {
  const now = new Date("2026-11-30T12:00:00Z");
  it("says how long is left", () => {
    expect(deadlineText("2026-11-30T15:00:00Z", now)).toBe("3 小时后到期");
    expect(deadlineText("2026-12-03T12:00:00Z", now)).toBe("3 天后到期");
  });
  it("says how long it is overdue", () => {
    expect(deadlineText("2026-11-30T10:00:00Z", now)).toBe("已超期 2 小时");
  });
  it("is empty without a deadline", () => {
    expect(deadlineText(null, now)).toBe("");
  });
});

describe("answerText", () => {
  it("writes answers as people read them", () => {
    expect(answerText(["a", "b"])).toBe("a、b");
    expect(answerText(true)).toBe("是");
    expect(answerText("")).toBe("—");
    expect(answerText(12)).toBe("12");
  });
});
