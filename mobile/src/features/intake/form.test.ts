import { describe, expect, it } from "vitest";
import { dismissReason, resolveProblems } from "./form";

describe("resolveProblems", () => {
  it("asks for the template and the community the server requires", () => {
    expect(resolveProblems({ template: null, community: null })).toEqual({ template: "intake.chooseTemplate", community: "intake.chooseCommunity" });
    expect(resolveProblems({ template: 3, community: null })).toEqual({ community: "intake.chooseCommunity" });
    expect(resolveProblems({ template: 3, community: 8 })).toEqual({});
  });
});

describe("dismissReason", () => {
  it("needs a reason, trimmed, of at most 2000 characters", () => {
    expect(dismissReason("  ")).toBeNull();
    expect(dismissReason(" 重复来件 ")).toBe("重复来件");
    expect(dismissReason("字".repeat(2001))).toBeNull();
  });
});
