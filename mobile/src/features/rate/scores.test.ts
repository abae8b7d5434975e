import { describe, expect, it } from "vitest";
import type { CaseInvitation } from "../raise/api";
import type { Criterion } from "./api";
import { departmentsToRate, emptySheet, toRatings, validScore, weightedOverall } from "./scores";

const criteria: Criterion[] = [
  { code: "result", label: "办理结果", order: 1, weight: "2.00", min: 0, max: 100 },
  { code: "conduct", label: "工作作风", order: 2, weight: "1.00", min: 0, max: 100 },
];

function invitation(id: number, department: number, state: string, person = `人${id}`): CaseInvitation {
  return { id, department: { id: department, code: `d${department}`, name: `部门${department}`, kind: "management" }, person: { id: 100 + id, name: person }, state, state_label: state, reason: "" };
}

describe("departmentsToRate", () => {
  it("lists each department that accepted, once, without those already rated", () => {
    const detail = {
      invitations: [
        invitation(1, 10, "accepted", "张三"),
        invitation(2, 10, "accepted", "李四"),
        invitation(3, 20, "declined"),
        invitation(4, 30, "accepted"),
        invitation(5, 40, "pending"),
      ],
    };
    const rated = [{ department: { id: 30, code: "d30", name: "部门30" } }];
    expect(departmentsToRate(detail, rated)).toEqual([{ id: 10, name: "部门10", people: ["张三", "李四"] }]);
  });
});

describe("toRatings", () => {
  it("names every missing score and sends nothing until all are given", () => {
    const sheet = emptySheet([{ id: 10, name: "a", people: [] }, { id: 20, name: "b", people: [] }], criteria);
    sheet[10].scores.result = 95;
    const { missing, ratings } = toRatings(sheet, criteria);
    expect(missing).toEqual(["10:conduct", "20:result", "20:conduct"]);
    expect(ratings).toEqual([]);
  });

  it("builds the body ratings/services.py takes: codes to whole numbers 0–100, comment trimmed", () => {
    const sheet = emptySheet([{ id: 10, name: "a", people: [] }], criteria);
    sheet[10] = { scores: { result: 100, conduct: 0 }, comment: "  很快 " };
    expect(toRatings(sheet, criteria)).toEqual({ missing: [], ratings: [{ department: 10, scores: { result: 100, conduct: 0 }, comment: "很快" }] });
  });

  it("refuses scores the server would: fractions and out of range", () => {
    const sheet = emptySheet([{ id: 10, name: "a", people: [] }], criteria);
    sheet[10].scores = { result: 99.5, conduct: 101 };
    expect(toRatings(sheet, criteria).missing).toEqual(["10:result", "10:conduct"]);
  });
});

describe("validScore", () => {
  it("takes the criterion's own range", () => {
    const five = { min: 1, max: 5 };
    expect([0, 1, 5, 6].map((v) => validScore(v, five))).toEqual([false, true, true, false]);
    expect([0, 100, 101].map((v) => validScore(v))).toEqual([true, true, false]);
  });
});

describe("weightedOverall", () => {
  it("is the weighted mean, two decimals, as the server stores it", () => {
    expect(weightedOverall({ result: 90, conduct: 81 }, criteria)).toBe(87);
    expect(weightedOverall({ result: 100, conduct: 99 }, criteria)).toBe(99.67);
    expect(weightedOverall({ result: 100, conduct: null }, criteria)).toBeNull();
  });
});
