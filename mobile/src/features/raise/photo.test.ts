import { describe, expect, it } from "vitest";
import { fitWithin, LONG_EDGE } from "./photo";

describe("fitWithin", () => {
  it("brings a 12-megapixel landscape shot to a 2048 px long edge, aspect kept", () => {
    expect(fitWithin(4032, 3024)).toEqual({ width: 2048, height: 1536 });
  });

  it("does the same for a portrait shot (long edge is the height)", () => {
    expect(fitWithin(3024, 4032)).toEqual({ width: 1536, height: 2048 });
  });

  it("never enlarges a small picture", () => {
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 });
    expect(fitWithin(LONG_EDGE, 10)).toEqual({ width: LONG_EDGE, height: 10 });
  });

  it("keeps a thin panorama at least one pixel tall", () => {
    expect(fitWithin(100000, 10)).toEqual({ width: 2048, height: 1 });
  });

  it("takes another long edge", () => {
    expect(fitWithin(1000, 500, 100)).toEqual({ width: 100, height: 50 });
  });

  it("refuses sizes that are no picture", () => {
    expect(() => fitWithin(0, 10)).toThrow(RangeError);
    expect(() => fitWithin(NaN, 10)).toThrow(RangeError);
  });
});
