import { describe, expect, it } from "vitest";
import { ApiError } from "../api/http";
import {
  classify,
  newRecord,
  nextToSend,
  nextWake,
  OUTBOX_BACKOFF,
  recover,
  retry,
  settleError,
  succeed,
  begin,
  wakeAll,
  type OutboxRecord,
} from "./machine";

const item = (group: string, now = 1000, extra: Partial<OutboxRecord> = {}) =>
  newRecord({ kind: "message", group, payload: {}, ...extra }, now);

describe("classify", () => {
  it("retries what the network or the server caused, fails what the server refused", () => {
    expect(classify(new ApiError(0, "network", "网络未连接"))).toBe("retry");
    expect(classify(new ApiError(502, "http_502", "x"))).toBe("retry");
    expect(classify(new ApiError(503, "http_503", "x"))).toBe("retry");
    expect(classify(new ApiError(429, "throttled", "x"))).toBe("retry");
    expect(classify(new ApiError(403, "not_authenticated", "请登录"))).toBe("retry");
    expect(classify(new ApiError(409, "idempotency_key_in_progress", "x"))).toBe("retry");
    expect(classify(new ApiError(409, "invalid_transition", "案件已被退回"))).toBe("refused");
    expect(classify(new ApiError(400, "validation_failed", "标题为必填项"))).toBe("refused");
    expect(classify(new ApiError(403, "not_allowed", "您已被撤回"))).toBe("refused");
    expect(classify(new DOMException("cancelled", "AbortError"))).toBe("cancelled");
    expect(classify(new TypeError("Failed to fetch"))).toBe("retry");
  });
});

describe("the item's states", () => {
  it("waiting → sending → sent", () => {
    const a = item("room:1");
    begin(a);
    expect(a.state).toBe("sending");
    succeed(a, 5000);
    expect(a).toMatchObject({ state: "sent", sentAt: 5000, error: "" });
  });

  it("a network failure waits with a growing backoff, keeping the reason", () => {
    const a = item("room:1");
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      begin(a);
      expect(settleError(a, new ApiError(0, "network", "网络未连接"), "网络未连接", 10_000, () => 0.999999)).toBe("retry");
      waits.push(a.nextAt - 10_000);
    }
    expect(a.state).toBe("waiting");
    expect(a.error).toBe("网络未连接");
    expect(a.attempts).toBe(8);
    expect(waits.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(Math.max(...waits)).toBe(OUTBOX_BACKOFF.cap);
  });

  it("a refusal fails at once with the server's reason and is not retried by itself", () => {
    const a = item("draft:x");
    begin(a);
    const refusal = new ApiError(409, "invalid_transition", "案件 AJ-1 已办结，不能再发消息");
    expect(settleError(a, refusal, refusal.message, 10_000)).toBe("refused");
    expect(a).toMatchObject({ state: "failed", status: 409, error: "案件 AJ-1 已办结，不能再发消息" });
    expect(nextToSend([a], 1e12)).toEqual([]);
    expect(retry(a, 20_000)).toBe(true);
    expect(a).toMatchObject({ state: "waiting", attempts: 0, nextAt: 20_000, error: "" });
  });

  it("a cancelled upload fails as cancelled", () => {
    const a = item("draft:x");
    begin(a);
    expect(settleError(a, new DOMException("cancelled", "AbortError"), "已取消")).toBe("cancelled");
    expect(a).toMatchObject({ state: "failed", status: -1, error: "已取消" });
  });

  it("an item left sending by a closed tab is waiting again", () => {
    const a = item("room:1");
    begin(a);
    recover(a, 7000);
    expect(a).toMatchObject({ state: "waiting", nextAt: 7000 });
  });

  it("cannot send what is not waiting", () => {
    const a = item("room:1");
    succeed(a);
    expect(() => begin(a)).toThrow();
  });
});

describe("nextToSend", () => {
  it("sends one item per group, in queue order", () => {
    const [a, b, c] = [item("room:1"), item("room:1"), item("room:2")];
    expect(nextToSend([c, b, a], 2000)).toEqual([a, c]);
    begin(a);
    expect(nextToSend([a, b, c], 2000)).toEqual([c]); // b waits for a
    succeed(a);
    expect(nextToSend([a, b, c], 2000)).toEqual([b, c]);
  });

  it("waits for the backoff, and the network's return wakes everything", () => {
    const a = item("room:1");
    begin(a);
    settleError(a, new ApiError(0, "network", "x"), "x", 1000, () => 0.5);
    expect(nextToSend([a], 1000)).toEqual([]);
    expect(nextWake([a])).toBe(a.nextAt);
    wakeAll([a], 1001);
    expect(nextToSend([a], 1001)).toEqual([a]);
  });

  it("a failed item does not hold back the next of its group", () => {
    const [a, b] = [item("room:1"), item("room:1")];
    begin(a);
    settleError(a, new ApiError(400, "validation_failed", "x"), "x");
    expect(nextToSend([a, b], 2000)).toEqual([b]);
  });

  it("respects the limit", () => {
    expect(nextToSend([item("a"), item("b"), item("c")], 2000, 2)).toHaveLength(2);
  });
});
