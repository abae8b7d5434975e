// @vitest-environment node
import "fake-indexeddb/auto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/http";
import { closeDb } from "./db";
import { newRecord, type OutboxRecord } from "./machine";
import { Outbox, type Handler } from "./outbox";

vi.mock("../i18n", () => ({ t: (key: string) => key }));

afterEach(async () => {
  closeDb();
  indexedDB.deleteDatabase("jinshao-phone");
});

const message = (room: number, text: string) => newRecord({ kind: "message", group: `room:${room}`, payload: { text } });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

let user: number | null = 1;
afterEach(() => {
  user = 1;
});

function outboxWith(send: Handler) {
  return new Outbox({ message: send, case: send, upload: send }, () => user);
}

describe("Outbox", () => {
  it("sends a room's messages one at a time, in the order they were written", async () => {
    const sent: string[] = [];
    const box = outboxWith(async (item) => {
      await new Promise((r) => setTimeout(r, 2));
      sent.push((item.payload as { text: string }).text);
    });
    for (const text of ["一", "二", "三", "四", "五"]) await box.add(message(1, text));
    await until(() => box.items.every((i) => i.state === "sent"));
    expect(sent).toEqual(["一", "二", "三", "四", "五"]);
    box.stop();
  });

  it("keeps what could not be sent across a reload, and sends it afterwards", async () => {
    let online = false;
    const sent: string[] = [];
    const send: Handler = async (item) => {
      if (!online) throw new ApiError(0, "network", "网络未连接");
      sent.push((item.payload as { text: string }).text);
    };
    const first = outboxWith(send);
    await first.add(message(1, "离线写的"));
    await until(() => first.items[0].attempts > 0);
    expect(first.items[0]).toMatchObject({ state: "waiting", error: "网络未连接" });
    first.stop();

    online = true;
    const second = outboxWith(send); // the page reloaded
    await second.start();
    expect(second.items.map((i) => (i.payload as { text: string }).text)).toEqual(["离线写的"]);
    second.wake();
    await until(() => second.items[0].state === "sent");
    expect(sent).toEqual(["离线写的"]);
    second.stop();
  });

  it("a refusal is failed with the server's reason until the person retries or discards it", async () => {
    let refuse = true;
    const box = outboxWith(async () => {
      if (refuse) throw new ApiError(409, "invalid_transition", "案件已办结");
    });
    const item = await box.add(message(2, "迟到的消息"));
    await until(() => item.state === "failed");
    expect(item.error).toBe("案件已办结");
    expect((await box.settled(item.id))?.state).toBe("failed");
    refuse = false;
    await box.retry(item.id);
    await until(() => item.state === "sent");

    refuse = true;
    const other = await box.add(message(2, "放弃的消息"));
    await until(() => other.state === "failed");
    await box.discard(other.id);
    expect(box.get(other.id)).toBeUndefined();
    const reloaded = outboxWith(async () => undefined);
    await reloaded.start();
    expect(reloaded.items.map((i: OutboxRecord) => i.id)).toEqual([item.id]);
    box.stop();
    reloaded.stop();
  });

  it("sends an item only while the person who queued it is logged in", async () => {
    const sent: string[] = [];
    const box = outboxWith(async (item) => {
      sent.push((item.payload as { text: string }).text);
    });
    user = null; // logged out: it is kept, not sent
    await box.add(Object.assign(message(4, "杨凯写的"), { owner: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    user = 2; // a colleague logs in on the same phone: still not sent
    box.wake();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    expect(box.items[0].state).toBe("waiting");
    user = 1;
    box.wake();
    await until(() => box.items[0].state === "sent");
    expect(sent).toEqual(["杨凯写的"]);
    box.stop();
  });

  it("what a step saved is there when the item is tried again", async () => {
    let calls = 0;
    const box = outboxWith(async (item, context) => {
      calls++;
      const done = (item.result ?? { steps: 0 }) as { steps: number };
      item.result = done;
      if (done.steps === 0) {
        done.steps = 1;
        await context.save();
        throw new ApiError(502, "http_502", "bad gateway");
      }
      done.steps = 2;
    });
    const item = await box.add(message(3, "分步"));
    await until(() => item.attempts === 1);
    box.wake();
    await until(() => item.state === "sent");
    expect(calls).toBe(2);
    expect(item.result).toEqual({ steps: 2 });
    box.stop();
  });
});
