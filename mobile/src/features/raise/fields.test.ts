import { describe, expect, it } from "vitest";
import { checkAnswers, isIsoDate, MAX_PHOTOS, parseDecimal } from "./fields";
import type { TemplateField } from "./types";

function field(key: string, kind: TemplateField["kind"], required = false, choices: string[] = []): TemplateField {
  return { key, label: key.toUpperCase(), kind, kind_label: kind, required, choices, help_text: "" };
}

const form = [
  field("note", "text"),
  field("count", "number", true),
  field("side", "choice", false, ["东", "西"]),
  field("day", "date"),
  field("site_photo", "photo", true),
];

describe("checkAnswers (templates/services.py validate_answers)", () => {
  it("cleans a complete form as the server stores it", () => {
    const { answers, errors } = checkAnswers(form, {
      note: "  门前堆物 ",
      count: "3",
      side: "东",
      day: "2026-02-28",
      site_photo: "ref-1",
    });
    expect(errors).toEqual({});
    expect(answers).toEqual({ note: "门前堆物", count: 3, side: "东", day: "2026-02-28", site_photo: ["ref-1"] });
  });

  it("reports every missing required answer at once; blank text and empty lists count as missing", () => {
    const { errors, answers } = checkAnswers(form, { note: "   ", count: " ", site_photo: [] });
    expect(Object.keys(errors).sort()).toEqual(["count", "site_photo"]);
    expect(errors.count).toBe("COUNT为必填项。");
    expect(answers).toEqual({});
  });

  it("lets required answers wait when the server would (intake)", () => {
    expect(checkAnswers(form, {}, false).errors).toEqual({});
  });

  it("refuses wrong types, unknown choices, impossible days and too many photos", () => {
    const { errors } = checkAnswers(form, {
      note: 5 as unknown as string,
      count: "0x10",
      side: "南",
      day: "2026-02-30",
      site_photo: Array.from({ length: MAX_PHOTOS + 1 }, (_, i) => `p${i}`),
    });
    expect(errors).toEqual({
      note: "NOTE：请输入文字。",
      count: "COUNT：请输入数字。",
      side: "SIDE：请从以下选项中选择：东、西。",
      day: "DAY：请按 YYYY-MM-DD 格式填写日期。",
      site_photo: `SITE_PHOTO：最多 ${MAX_PHOTOS} 张照片。`,
    });
  });

  it("refuses text over 2000 characters and answers to fields the form has not", () => {
    const { errors } = checkAnswers(form, { note: "字".repeat(2001), count: 1, site_photo: ["r"], extra: "x" });
    expect(errors.note).toBe("NOTE：最多 2000 个字符。");
    expect(errors.extra).toBe("该表单没有此字段。");
  });

  it("keeps integers whole and decimals as they are", () => {
    expect(checkAnswers(form, { count: "2.50", site_photo: "r" }).answers.count).toBe(2.5);
    expect(checkAnswers(form, { count: 7, site_photo: "r" }).answers.count).toBe(7);
  });
});

describe("parseDecimal and isIsoDate", () => {
  it("read numbers as people type them, nothing else", () => {
    expect([parseDecimal(" 12 "), parseDecimal("-3.5"), parseDecimal("1e3"), parseDecimal(".5")]).toEqual([12, -3.5, 1000, 0.5]);
    for (const text of ["", "0x10", "1,5", "Infinity", "abc"]) expect(parseDecimal(text)).toBeNaN();
  });

  it("accept real days only, leap years included", () => {
    expect(isIsoDate("2024-02-29")).toBe(true);
    expect(isIsoDate("2023-02-29")).toBe(false);
    expect(isIsoDate("2024-13-01")).toBe(false);
    expect(isIsoDate("2024-1-01")).toBe(false);
  });
});
