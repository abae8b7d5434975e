import { describe, expect, it } from "vitest";
import { reconnectDelay, ROOM_BACKOFF } from "./backoff";

describe("reconnectDelay", () => {
  it("doubles from the base up to the cap", () => {
    const top = (attempt: number) => reconnectDelay(attempt, ROOM_BACKOFF, () => 0.999999);
    expect([0, 1, 2, 3, 4].map(top)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(top(6)).toBe(30000);
    expect(top(1000)).toBe(30000);
  });

  it("keeps half fixed and jitters the other half", () => {
    expect(reconnectDelay(3, ROOM_BACKOFF, () => 0)).toBe(2000);
    expect(reconnectDelay(3, ROOM_BACKOFF, () => 0.5)).toBe(3000);
  });

  it("spreads phones out: random draws give different waits within the bounds", () => {
    const waits = Array.from({ length: 50 }, () => reconnectDelay(2));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2000);
    expect(new Set(waits).size).toBeGreaterThan(5);
  });
});
