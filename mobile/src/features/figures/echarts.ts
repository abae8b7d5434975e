// ECharts with only what the figures draw: bars, marks, grid, legend, title, tooltip, label
// layout, drawn as SVG (crisp on a wall screen; the labels are text a screen reader and a
// test can read). Imported only by the figures screen and the dashboard entry (lazy chunk).
import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from "echarts/components";
import { init, use, type ECharts } from "echarts/core";
import { LabelLayout } from "echarts/features";
import { SVGRenderer } from "echarts/renderers";
import type { Option } from "./options";

use([BarChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, LabelLayout, SVGRenderer]);

export type { ECharts };

/** Draw `option` in `element` (SVG); the caller disposes of the chart. */
export function draw(element: HTMLElement, option: Option): ECharts {
  const chart = init(element, undefined, { renderer: "svg", locale: "ZH" });
  chart.setOption(option as never, { notMerge: true });
  return chart;
}

/** Type scale for the chart's width: a phone 1, a desktop 1.2, a wall screen 1.6. */
export function scaleFor(width: number): number {
  return width >= 1600 ? 1.6 : width >= 1000 ? 1.2 : 1;
}

/** The chart as a PNG (its SVG drawn on a canvas at twice the size), offered as a download. */
export async function downloadImage(chart: ECharts, filename: string): Promise<void> {
  const svg = chart.getDataURL({ type: "svg", backgroundColor: "#fff" });
  const image = new Image();
  await new Promise<void>((resolve, reject) => {
    image.onload = () => resolve();
    image.onerror = () => reject(new Error("svg"));
    image.src = svg;
  });
  const canvas = document.createElement("canvas");
  canvas.width = chart.getWidth() * 2;
  canvas.height = chart.getHeight() * 2;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("canvas");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  const link = document.createElement("a");
  link.href = canvas.toDataURL("image/png");
  link.download = `${filename}.png`;
  document.body.appendChild(link);
  link.click();
  link.remove();
}
