import { describe, expect, it } from "vitest";
import { ACK_TIMEOUT_MS, newClientId, RoomLog } from "./outbox";
import type { RoomMessage } from "./types";

const ME = 7;

function message(id: number, over: Partial<RoomMessage> = {}): RoomMessage {
  return {
    id,
    case: 1,
    kind: "text",
    sender: { id: 99, name: "王五" },
    text: `m${id}`,
    attachment: null,
    event: null,
    client_id: "",
    created_at: "2026-11-30T10:00:00+08:00",
    ...over,
  };
}

describe("RoomLog: the server's messages", () => {
  it("keeps them in id order, each id once, whatever way they came", () => {
    const log = new RoomLog();
    expect(log.receive([message(3), message(4)]).map((m) => m.id)).toEqual([3, 4]);
    expect(log.receive([message(4), message(5)]).map((m) => m.id)).toEqual([5]); // live push after resume
    expect(log.receive([message(1), message(2)]).map((m) => m.id)).toEqual([1, 2]); // an older page
    expect(log.messages.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    expect([log.firstId, log.lastId]).toEqual([1, 5]);
  });

  it("counts and finds what I have not read, not my own", () => {
    const log = new RoomLog();
    log.receive([message(1), message(2, { sender: { id: ME, name: "我" } }), message(3), message(4, { sender: null, kind: "system" })]);
    expect(log.unreadCount(1, ME)).toBe(2);
    expect(log.firstUnread(1, ME)?.id).toBe(3);
    expect(log.firstUnread(4, ME)).toBeUndefined();
  });
});

describe("RoomLog: my outbox (sending → sent → the server's copy; failed → retry)", () => {
  it("goes sending → sent on the ack, and leaves the outbox when the copy arrives", () => {
    const log = new RoomLog();
    log.enqueue({ clientId: "c1", kind: "text", text: "到了" }, 0);
    expect(log.find("c1")?.state).toBe("sending");
    log.acknowledge("c1", 10);
    expect(log.find("c1")).toMatchObject({ state: "sent", id: 10 });
    log.receive([message(10, { client_id: "c1", sender: { id: ME, name: "我" } })]);
    expect(log.find("c1")).toBeUndefined();
    expect(log.messages.map((m) => m.id)).toEqual([10]);
  });

  it("drops the pending copy when the server's copy arrives before the ack", () => {
    const log = new RoomLog();
    log.enqueue({ clientId: "c1", kind: "text", text: "x" }, 0);
    log.receive([message(10, { client_id: "c1", sender: { id: ME, name: "我" } })]);
    expect(log.outbox).toEqual([]);
    log.acknowledge("c1", 10); // late ack: nothing to do, no duplicate
    expect(log.outbox).toEqual([]);
    expect(log.messages).toHaveLength(1);
  });

  it("turns failed on a refusal and sending again on retry, same client id", () => {
    const log = new RoomLog();
    log.enqueue({ clientId: "c1", kind: "text", text: "x" }, 0);
    log.fail("c1", "消息过长");
    expect(log.find("c1")).toMatchObject({ state: "failed", error: "消息过长" });
    expect(log.retry("c1", 500)).toMatchObject({ clientId: "c1", state: "sending", error: "", since: 500 });
    expect(log.retry("c1")).toBeUndefined(); // only a failed message is retried
  });

  it("fails what stays unanswered past the timeout, and only that", () => {
    const log = new RoomLog();
    log.enqueue({ clientId: "old", kind: "text", text: "a" }, 0);
    log.enqueue({ clientId: "new", kind: "text", text: "b" }, ACK_TIMEOUT_MS - 1);
    log.enqueue({ clientId: "acked", kind: "text", text: "c" }, 0);
    log.acknowledge("acked", 3);
    expect(log.expire(ACK_TIMEOUT_MS, "超时").map((i) => i.clientId)).toEqual(["old"]);
    expect(log.outbox.map((i) => i.state)).toEqual(["failed", "sending", "sent"]);
  });

  it("a refusal does not undo an acknowledged message", () => {
    const log = new RoomLog();
    log.enqueue({ clientId: "c1", kind: "text", text: "x" }, 0);
    log.acknowledge("c1", 4);
    log.fail("c1", "late error");
    expect(log.find("c1")?.state).toBe("sent");
  });

  it("resends only the texts still sending after a reconnect", () => {
    const log = new RoomLog();
    log.enqueue({ clientId: "t1", kind: "text", text: "a" }, 0);
    log.enqueue({ clientId: "p1", kind: "image", text: "" }, 0);
    log.enqueue({ clientId: "t2", kind: "text", text: "b" }, 0);
    log.fail("t2", "x");
    expect(log.unsentTexts().map((i) => i.clientId)).toEqual(["t1"]);
  });

  it("makes client ids the server accepts, different every time", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newClientId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
  });
});
