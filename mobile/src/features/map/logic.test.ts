import { describe, expect, it } from "vitest";
import type { AreaCollection } from "./api";
import { areaValues, daysBefore, FILL_OVER_TILES, displayValue, drawable, drillBack, drillInto, escapeHtml, formatValue, levelBelow, mapOption, periodFrom, shanghaiToday, type Crumb, type Labels } from "./logic";

const labels: Labels = {
  unit: { cases: "件", per_1000: "件/千人", overdue_share: "%", mean_response: "分钟" },
  indicator: { cases: "案件数", per_1000: "每千人案件数", overdue_share: "超时占比", mean_response: "平均响应时长" },
  noData: "无数据",
  density: "案件点位密度",
  casesUnit: "件",
};

const square = (x: number) => ({ type: "Polygon", coordinates: [[[x, 30], [x + 0.1, 30], [x + 0.1, 30.1], [x, 30]]] });

function collection(indicator: AreaCollection["indicator"] = "overdue_share"): AreaCollection {
  const feature = (id: number, name: string, value: number | null, geometry: unknown) => ({
    type: "Feature" as const,
    id,
    geometry: geometry as AreaCollection["features"][number]["geometry"],
    properties: { id, code: `C${id}`, name, level: 2, parent: 1, population: null, cases: 3, overdue: 1, per_1000: null, overdue_share: value, mean_response: null, value },
  });
  return {
    type: "FeatureCollection",
    indicator,
    level: "town",
    range: [0.25, 0.5],
    features: [feature(11, "南桥镇", 0.25, square(121.4)), feature(12, "奉城镇", 0.5, square(121.5)), feature(13, "无边界镇", null, null)],
  };
}

describe("the choropleth option", () => {
  it("draws only areas with a boundary, named by id, and keeps their names for labels", () => {
    const geo = drawable(collection());
    expect(geo.features.map((f) => f.properties)).toEqual([
      { key: "11", name: "南桥镇" },
      { key: "12", name: "奉城镇" },
    ]);
  });

  it("gives every area its value in the unit shown, and the legend says the unit", () => {
    const option = mapOption({ collection: collection(), map: "m", labels });
    expect(option.series[0].data).toEqual([
      { name: "11", value: 25 },
      { name: "12", value: 50 },
      { name: "13", value: NaN },
    ]);
    expect(option.visualMap.min).toBe(25);
    expect(option.visualMap.max).toBe(50);
    expect(option.visualMap.text).toEqual(["50 %", "25"]);
    expect(option.geo.map).toBe("m");
    expect(option.geo.label.formatter({ name: "12" })).toBe("奉城镇");
  });

  it("shows the density layer as points on the same map, sized by cases", () => {
    const option = mapOption({
      collection: collection("cases"),
      map: "m",
      labels,
      density: { cell: 0.01, located: 5, unlocated: 1, cells: [{ longitude: 121.405, latitude: 30.005, cases: 4 }, { longitude: 121.415, latitude: 30.005, cases: 1 }] },
    });
    const scatter = option.series[1];
    expect(scatter.coordinateSystem).toBe("geo");
    expect(scatter.data).toEqual([[121.405, 30.005, 4], [121.415, 30.005, 1]]);
    const size = (scatter as { symbolSize: (v: number[]) => number }).symbolSize;
    expect(size([0, 0, 4])).toBeGreaterThan(size([0, 0, 1]));
  });

  it("on the wall, shows the pushed counts instead of the fetched values", () => {
    expect(areaValues(collection(), { "11": 7 }).map((d) => d.value)).toEqual([7, 0, 0]);
    const option = mapOption({ collection: collection(), map: "m", labels, values: { "11": 7, "12": 2 } });
    expect(option.visualMap.text).toEqual(["7 件", "0"]);
  });

  it("keeps a legend when every area has the same value", () => {
    const flat = collection("cases");
    flat.features.forEach((f) => (f.properties.value = 3));
    const option = mapOption({ collection: flat, map: "m", labels });
    expect(option.visualMap.max).toBeGreaterThan(option.visualMap.min);
  });

  it("projects by Web Mercator, as the tiles are, and lets tiles show through the fills", () => {
    const plain = mapOption({ collection: collection(), map: "m", labels });
    expect(plain.geo.projection.project([0, 0])).toEqual([128, 128]);
    expect(plain.geo.projection.unproject([128, 128])).toEqual([0, 0]);
    expect(plain.geo.itemStyle.opacity).toBe(1);
    expect(plain.geo.preserveAspect).toBe(true); // not stretched to the box: tiles are square
    const over = mapOption({ collection: collection(), map: "m", labels, tiles: true });
    expect(over.geo.itemStyle.opacity).toBe(FILL_OVER_TILES);
    expect(FILL_OVER_TILES).toBeGreaterThan(0.5);
    expect(FILL_OVER_TILES).toBeLessThan(1);
  });

  it("escapes area names in the tooltip", () => {
    const evil = collection("cases");
    evil.features[0].properties.name = "<img src=x onerror=alert(1)>";
    const text = mapOption({ collection: evil, map: "m", labels }).tooltip.formatter({ seriesType: "map", name: "11", value: 3 });
    expect(text).not.toContain("<img");
    expect(escapeHtml("a&<")).toBe("a&amp;&lt;");
  });
});

describe("units", () => {
  it("shows shares in %, response in minutes, and says when there is no figure", () => {
    expect(displayValue("overdue_share", 0.1234)).toBe(12.3);
    expect(displayValue("mean_response", 1530)).toBe(25.5);
    expect(displayValue("per_1000", 1.25)).toBe(1.25);
    expect(displayValue("per_1000", 29 / 7)).toBe(4.14);
    expect(formatValue("per_1000", null, labels)).toBe("无数据");
    expect(formatValue("mean_response", 600, labels)).toBe("10 分钟");
  });

  it("rounds the server's unrounded figures once, so a last digit never tips", () => {
    // 1 overdue of 29: 3.448… %; rounded first to 0.0001 (0.0345) it showed 3.5 %.
    expect(displayValue("overdue_share", 1 / 29)).toBe(3.4);
    expect(formatValue("overdue_share", 1 / 29, labels)).toBe("3.4 %");
    // 176.996 s = 2.9499 minutes; rounded first to 0.01 s (177 s) it showed 3.0.
    expect(displayValue("mean_response", 176.996)).toBe(2.9);
    expect(formatValue("mean_response", 176.996, labels)).toBe("2.9 分钟");
    // The legend and the tooltip show the same once-rounded figure.
    const option = mapOption({ collection: collection("overdue_share"), map: "m", labels }) as { series: { data: { value: number }[] }[] };
    expect(option.series[0].data.map((d) => d.value)).toEqual(collection("overdue_share").features.map((f) => displayValue("overdue_share", f.properties.value) ?? NaN));
  });
});

describe("the drill path", () => {
  const top: Crumb[] = [{ id: null, name: "奉贤区", level: "town" }];

  it("goes town → grids → communities, and stops at a community", () => {
    const town = drillInto(top, { id: 11, name: "南桥镇", level: 2 })!;
    expect(town.at(-1)).toEqual({ id: 11, name: "南桥镇", level: "grid" });
    const grid = drillInto(town, { id: 21, name: "南桥第一网格", level: 3 })!;
    expect(grid.at(-1)!.level).toBe("community");
    expect(drillInto(grid, { id: 31, name: "曙光村", level: 4 })).toBeNull();
    expect(drillBack(grid, 0)).toEqual(top);
    expect(drillBack(grid, 1)).toEqual(town);
  });

  it("draws one level below the asker's own area", () => {
    expect([levelBelow(null), levelBelow(1), levelBelow(2), levelBelow(3), levelBelow(4)]).toEqual(["town", "town", "grid", "community", "community"]);
  });
});

describe("periods", () => {
  it("counts whole local days back from today, both ends included", () => {
    expect(periodFrom("today", "2026-03-01")).toBe("2026-03-01");
    expect(periodFrom("7", "2026-03-01")).toBe("2026-02-23");
    expect(daysBefore("2024-03-01", 1)).toBe("2024-02-29");
    expect(shanghaiToday(new Date("2026-11-30T17:00:00Z"))).toBe("2026-12-01");
  });
});
