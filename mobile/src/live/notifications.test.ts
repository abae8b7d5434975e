import { describe, expect, it } from "vitest";
import { backoff, changesCounts, socketUrl } from "./notifications";

describe("the live feed", () => {
  it("recounts on frames that change the counts only", () => {
    expect(changesCounts({ type: "notification" })).toBe(true);
    expect(changesCounts({ type: "message_alert" })).toBe(true);
    expect(changesCounts({ type: "pong" })).toBe(false);
  });
  it("waits longer after each failure, at most 30 s", () => {
    expect([0, 1, 2, 10].map(backoff)).toEqual([1000, 2000, 4000, 30000]);
  });
  it("uses wss: behind https", () => {
    expect(socketUrl({ protocol: "https:", host: "jinshao.example" } as Location)).toBe("wss://jinshao.example/ws/notifications/");
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8000" } as Location)).toBe("ws://127.0.0.1:8000/ws/notifications/");
  });
});
