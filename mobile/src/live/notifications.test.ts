import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoff, changesCounts, connected, onChange, socketUrl, startLive, stopLive } from "./notifications";
import { onSessionLost } from "../offline/network";

class FakeSocket {
  static made: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.made.push(this);
  }
  close() {}
  hello() {
    this.onopen?.();
    this.onmessage?.({ data: JSON.stringify({ type: "hello" }) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

describe("the live feed", () => {
  it("recounts on frames that change the counts only", () => {
    expect(changesCounts({ type: "notification" })).toBe(true);
    expect(changesCounts({ type: "message_alert" })).toBe(true);
    expect(changesCounts({ type: "pong" })).toBe(false);
  });
  it("waits longer after each failure, at most 30 s, spread between half and all of it", () => {
    expect([0, 1, 2, 10].map((n) => backoff(n, () => 0))).toEqual([500, 1000, 2000, 15000]);
    expect([0, 1, 2, 10].map((n) => backoff(n, () => 0.999999))).toEqual([1000, 2000, 4000, 30000]);
  });
  it("uses wss: behind https", () => {
    expect(socketUrl({ protocol: "https:", host: "jinshao.example" } as Location)).toBe("wss://jinshao.example/ws/notifications/");
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8000" } as Location)).toBe("ws://127.0.0.1:8000/ws/notifications/");
  });
});

describe("the live feed after a drop", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.made = [];
    vi.stubGlobal("WebSocket", FakeSocket);
  });
  afterEach(() => {
    stopLive();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("comes back after a jittered pause and the counts are read again on its hello", () => {
    const recount = vi.fn();
    const off = onChange(recount);
    startLive();
    FakeSocket.made[0].hello();
    expect(recount).toHaveBeenCalledTimes(1);
    FakeSocket.made[0].drop(); // the server restarted
    expect(connected.value).toBe(false);
    vi.advanceTimersByTime(499); // never sooner than half the first pause
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(501);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1].drop(); // still down: a longer pause (1–2 s)
    vi.advanceTimersByTime(999);
    expect(FakeSocket.made).toHaveLength(2);
    vi.advanceTimersByTime(1001);
    expect(FakeSocket.made).toHaveLength(3);
    FakeSocket.made[2].hello(); // back: what was missed is counted again
    expect(connected.value).toBe(true);
    expect(recount).toHaveBeenCalledTimes(2);
    off();
  });

  it("comes back at once when the phone is online again", () => {
    startLive();
    FakeSocket.made[0].drop();
    window.dispatchEvent(new Event("online"));
    expect(FakeSocket.made).toHaveLength(2);
  });

  it("does not insist after the session ended, and forgets the person's data", () => {
    const lost = vi.fn();
    const off = onSessionLost(lost);
    startLive();
    FakeSocket.made[0].drop(4401);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
    expect(lost).toHaveBeenCalledTimes(1);
    off();
  });
});
