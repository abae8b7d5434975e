import { describe, expect, it } from "vitest";
import { FLOOD_WAIT_MS, RoomConnection, roomUrl, type ConnectionStatus, type SocketLike } from "./connection";
import type { ServerFrame } from "./types";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  constructor(public url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.closedWith = code;
  }
  // the server's side
  serverSends(frame: ServerFrame) {
    this.readyState = 1;
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
}

function last<T>(items: T[]): T {
  return items[items.length - 1];
}

const hello: ServerFrame = { type: "hello", case: { id: 5, number: "JS-1", state: "in_progress" }, last_message_id: 9, last_read_id: 3 };

function setup(lastId = 0) {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const statuses: [ConnectionStatus, number | undefined][] = [];
  const frames: ServerFrame[] = [];
  const ended: [number, string | undefined][] = [];
  let last = lastId;
  const connection = new RoomConnection({
    url: "ws://x/ws/cases/5/",
    lastId: () => last,
    random: () => 0,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    setTimer: (fn, ms) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (handle) => {
      (handle as { cleared: boolean }).cleared = true;
    },
    hooks: {
      frame: (frame) => frames.push(frame),
      status: (status, detail) => statuses.push([status, detail.delayMs]),
      ended: (code, error) => ended.push([code, error?.message]),
    },
  });
  const reconnectTimers = () => timers.filter((t) => !t.cleared && t.ms !== 25000);
  return { connection, sockets, timers, reconnectTimers, statuses, frames, ended, setLast: (n: number) => (last = n) };
}

describe("RoomConnection", () => {
  it("builds the socket URL from the page's own origin", () => {
    expect(roomUrl(5, { protocol: "https:", host: "jinshao.example" })).toBe("wss://jinshao.example/ws/cases/5/");
    expect(roomUrl(5, { protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/ws/cases/5/");
  });

  it("resumes after the last id it holds as soon as the server says hello", () => {
    const t = setup(4);
    t.connection.start();
    expect(t.connection.send({ type: "message", text: "early" })).toBe(false); // not open yet: kept by the outbox
    t.sockets[0].serverSends(hello);
    expect(t.sockets[0].sent).toEqual([{ type: "resume", after: 4 }]);
    expect(t.connection.isOpen).toBe(true);
    expect(t.frames[0].type).toBe("hello");
  });

  it("reconnects with a growing backoff and resumes from what arrived meanwhile", () => {
    const t = setup(0);
    t.connection.start();
    t.sockets[0].serverSends(hello);
    t.setLast(12);
    t.sockets[0].drop(1006);
    expect(last(t.statuses)).toEqual(["waiting", 250]); // base 500, half fixed, random 0
    t.reconnectTimers()[0].fn();
    expect(t.sockets).toHaveLength(2);
    t.sockets[1].drop(1006); // refused before hello: the wait grows
    expect(last(t.statuses)).toEqual(["waiting", 500]);
    last(t.reconnectTimers()).fn();
    t.sockets[2].serverSends(hello);
    expect(t.sockets[2].sent).toEqual([{ type: "resume", after: 12 }]);
    t.sockets[2].drop(1012); // a server restart after a good hello: back to the first wait
    expect(last(t.statuses)).toEqual(["waiting", 250]);
  });

  it("waits longer after being closed for flooding", () => {
    const t = setup();
    t.connection.start();
    t.sockets[0].serverSends(hello);
    t.sockets[0].drop(4429);
    expect(last(t.statuses)).toEqual(["waiting", FLOOD_WAIT_MS]);
  });

  it.each([4401, 4403, 4404])("stops for good on close code %i and passes on the server's reason", (code) => {
    const t = setup();
    t.connection.start();
    t.sockets[0].serverSends({ type: "error", code: "not_participant", message: "您不在该案件的群聊中。" });
    t.sockets[0].drop(code);
    expect(t.ended).toEqual([[code, "您不在该案件的群聊中。"]]);
    expect(t.reconnectTimers()).toEqual([]);
    expect(t.connection.status).toBe("ended");
  });

  it("asks for what it missed when live delivery comes back", () => {
    const t = setup(3);
    t.connection.start();
    t.sockets[0].serverSends(hello);
    t.setLast(8);
    t.sockets[0].serverSends({ type: "live_restored", message: "恢复" });
    expect(last(t.sockets[0].sent)).toEqual({ type: "resume", after: 8 });
  });

  it("pings while open and never reconnects after stop", () => {
    const t = setup();
    t.connection.start();
    t.sockets[0].serverSends(hello);
    const ping = t.timers.find((x) => x.ms === 25000 && !x.cleared)!;
    ping.fn();
    expect(last(t.sockets[0].sent)).toEqual({ type: "ping" });
    t.connection.stop();
    expect(t.sockets[0].closedWith).toBe(1000);
    expect(t.timers.every((x) => x.cleared || x.ms === 25000)).toBe(true);
    expect(t.sockets).toHaveLength(1);
  });
});
