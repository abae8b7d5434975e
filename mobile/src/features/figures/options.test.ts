import { describe, expect, it } from "vitest";
import zh from "../../locales/zh-CN/figures";
import type { DepartmentRow, Distribution } from "./api";
import { binPosition, categoriesOption, departmentRates, departmentsOption, fixed, histogramOption, inUnit, percent, placesOption, trendOption, type Msg } from "./options";

// The real Chinese messages, formatted like vue-i18n's {name} placeholders.
const t: Msg = (key, params = {}) => {
  let node: unknown = { figures: zh };
  for (const part of key.split(".")) node = (node as Record<string, unknown>)[part];
  return String(node).replace(/\{(\w+)\}/g, (_m, name: string) => String(params[name]));
};

const response: Distribution = {
  unit: "minute",
  unit_seconds: 60,
  n: 3,
  mean: 1200,
  p50: 1200,
  p90: 1680,
  width: 300,
  bins: Array.from({ length: 12 }, (_v, i) => ({ start: i * 300, end: i === 11 ? null : (i + 1) * 300, cases: [2, 4, 6].includes(i) ? 1 : 0 })),
};

describe("rounding once", () => {
  it("rounds the exact value, never a rounded one", () => {
    expect(inUnit(44.996, 60)).toBe("0.7"); // 0.74993 min; 45.00 s would have shown 0.8
    expect(inUnit(2699.996, 3600)).toBe("0.7");
    expect(inUnit(null, 60)).toBe("—");
    expect(fixed(12.3456, 2)).toBe("12.35");
  });
  it("takes a rate from its counts", () => {
    // 1669 / 2000 = 83.45 %: from a ratio rounded to 0.835 first it would be 83.5
    expect(percent(1669, 2000)).toBe(83.5);
    expect(percent(16689, 20000)).toBe(83.4); // 83.445 → 83.4, not 0.8345 → 83.5
    expect(percent(1, 0)).toBeNull();
  });
});

describe("histogramOption", () => {
  const option = histogramOption(response, "response", t);
  const series = option.series[0];

  it("marks the median and the 90th percentile where they fall, named with their value", () => {
    const [p50, p90] = series.markLine.data;
    expect(p50.xAxis).toBe(3.5); // 1200 s / 300 s − ½: the edge between bins 3 and 4
    expect(p90.xAxis).toBeCloseTo(5.1);
    expect(p50.label.formatter).toBe("中位数 20.0 分钟");
    expect(p90.label.formatter).toBe("P90 28.0 分钟");
  });
  it("labels every bar with its count and the axes with their units", () => {
    expect(series.data).toEqual([0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    expect(series.label.show).toBe(true);
    expect(option.xAxis.name).toBe("用时（分钟）");
    expect(option.yAxis.name).toBe("案件数（件）");
    expect(option.xAxis.data[0]).toBe("0–5");
    expect(option.xAxis.data[11]).toBe("≥55");
    expect(option.title.text).toBe("响应时间分布");
  });
  it("puts a time past the last bin on the last bin", () => {
    expect(binPosition(10 ** 7, 300, 12)).toBe(11.5);
  });
  it("leaves the marks out when there is no time", () => {
    const none = histogramOption({ ...response, n: 0, p50: null, p90: null, mean: null }, "handling", t);
    expect(none.series[0].markLine.data).toEqual([]);
    expect(none.title.text).toBe("处置时间分布");
  });
});

describe("trendOption", () => {
  it("draws raised, closed and overdue per period, labelled", () => {
    const option = trendOption([{ period: "2026-03-01", raised: 4, closed: 2, overdue: 1 }], t);
    expect(option.series.map((s: { name: string }) => s.name)).toEqual(["发起", "办结", "超时"]);
    expect(option.series.map((s: { data: number[] }) => s.data[0])).toEqual([4, 2, 1]);
    expect(option.series.every((s: { label: { show: boolean } }) => s.label.show)).toBe(true);
    expect(option.yAxis.name).toBe("案件数（件）");
    expect(option.xAxis.data).toEqual(["2026-03-01"]);
  });
});

describe("categoriesOption", () => {
  it("labels rising categories with their growth", () => {
    const option = categoriesOption(
      {
        totals: [
          { category: 1, name: "占道经营", cases: 30 },
          { category: 2, name: "河道污染", cases: 12 },
        ],
        // growth from the halves' counts: 4 more on 3 is +133 %
        rising: [{ category: 2, name: "河道污染", first_half: 3, second_half: 7, growth: 1.3333 }],
      },
      t,
    );
    expect(option.yAxis.data).toEqual(["占道经营", "河道污染"]);
    expect(option.series[0].data.map((d: { label: { formatter: string } }) => d.label.formatter)).toEqual(["30", "12 ↑+133%"]);
  });
});

describe("departments", () => {
  const rows: DepartmentRow[] = [
    { department: 2, name: "水务局", rank: 2, invited: 4, accepted: 2, declined: 1, returned: 1, overdue: 1, rating_mean: null },
    { department: 1, name: "城管执法局", rank: 1, invited: 3, accepted: 3, declined: 0, returned: 0, overdue: 0, rating_mean: 86.25 },
  ];
  it("computes the rates from the counts, in the ranking's order", () => {
    expect(departmentRates(rows)).toEqual([
      { name: "城管执法局", accept: 100, decline: 0, returned: 0, timely: 100, score: 86.25 },
      { name: "水务局", accept: 50, decline: 25, returned: 25, timely: 50, score: null },
    ]);
  });
  it("names the score only where there are enough ratings", () => {
    const option = departmentsOption(rows, t);
    expect(option.yAxis.data).toEqual(["1. 城管执法局\n平均评分 86.25", "2. 水务局\n评价不足"]);
    expect(option.series.map((s: { name: string }) => s.name)).toEqual(["接单率", "拒单率", "退回率", "按时率"]);
    expect(option.series[0].label.formatter).toBe("{c}%");
    expect(option.xAxis.max).toBe(100);
  });
});

describe("placesOption", () => {
  it("carries the area to drill into on each bar", () => {
    const option = placesOption([{ area: 7, name: "南桥镇", cases: 40 }], "town", t);
    expect(option.series[0].data).toEqual([{ value: 40, name: "南桥镇", areaId: 7 }]);
    expect(option.title.text).toBe("各镇（街道）案件数");
  });
});
