// The room's socket (/ws/cases/{id}/, the browser's session cookie): it opens,
// says hello, is told to resume after the last message id it holds, and when
// it drops it comes back after a backoff with jitter — unless the server said
// the person may not be here (close codes 4401, 4403, 4404), which no retry
// can change.

import { reconnectDelay, ROOM_BACKOFF, type Backoff } from "./backoff";
import type { ServerFrame } from "./types";

/** Close codes after which reconnecting cannot help (core/sockets.py). */
export const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404]);
/** Flooding (4429): wait at least this long before coming back. */
export const FLOOD_WAIT_MS = 10000;
/** A ping keeps NATs and proxies from dropping a quiet room, and the presence fresh. */
export const PING_EVERY_MS = 25000;

export interface SocketLike {
  readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionStatus = "connecting" | "open" | "waiting" | "ended";

export interface ConnectionHooks {
  /** A frame from the server (hello included). */
  frame(frame: ServerFrame): void;
  status(status: ConnectionStatus, detail: { attempt: number; delayMs?: number; code?: number }): void;
  /** The server ended the socket for good; `error` is its last error frame (its reason), if any. */
  ended(code: number, error: Extract<ServerFrame, { type: "error" }> | null): void;
}

export interface ConnectionOptions {
  url: string;
  hooks: ConnectionHooks;
  /** Where a resume starts: the newest message id the page holds, read at each (re)connect. */
  lastId: () => number;
  createSocket?: (url: string) => SocketLike;
  backoff?: Backoff;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export function roomUrl(caseId: number, location: Pick<Location, "protocol" | "host"> = window.location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/cases/${caseId}/`;
}

export class RoomConnection {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private pinger: unknown = null;
  private stopped = false;
  private lastError: Extract<ServerFrame, { type: "error" }> | null = null;
  status: ConnectionStatus = "connecting";

  constructor(private options: ConnectionOptions) {}

  private get setTimer() {
    return this.options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  }

  private get clearTimer() {
    return this.options.clearTimer ?? ((handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Leave the room (the page closes): no reconnect. */
  stop(): void {
    this.stopped = true;
    this.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "leaving");
    }
  }

  get isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === 1 && this.status === "open";
  }

  /** Send a frame if the socket is open; false if it is not (the outbox keeps the message). */
  send(frame: Record<string, unknown>): boolean {
    if (!this.isOpen || !this.socket) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Come back now (the phone is online again, or the person asked). */
  reconnectNow(): void {
    if (this.stopped || this.status === "ended" || this.isOpen) return;
    this.clear();
    this.attempt = 0;
    this.open();
  }

  private setStatus(status: ConnectionStatus, detail: { delayMs?: number; code?: number } = {}): void {
    this.status = status;
    this.options.hooks.status(status, { attempt: this.attempt, ...detail });
  }

  private open(): void {
    this.setStatus("connecting");
    this.lastError = null;
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    const socket = create(this.options.url);
    this.socket = socket;
    socket.onmessage = (event) => this.onFrame(event);
    socket.onclose = (event) => this.onClose(event.code);
    socket.onerror = () => undefined; // a close follows; it decides
  }

  private onFrame(event: MessageEvent): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(event.data)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === "hello") {
      this.attempt = 0; // admitted: the next drop starts the backoff over
      this.setStatus("open");
      this.startPing();
      this.options.hooks.frame(frame);
      this.send({ type: "resume", after: this.options.lastId() });
      return;
    }
    if (frame.type === "live_restored") {
      this.options.hooks.frame(frame);
      this.send({ type: "resume", after: this.options.lastId() });
      return;
    }
    if (frame.type === "error" && !frame.client_id) this.lastError = frame;
    this.options.hooks.frame(frame);
  }

  private onClose(code: number): void {
    this.socket = null;
    this.clear();
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.setStatus("ended", { code });
      this.options.hooks.ended(code, this.lastError);
      return;
    }
    let delayMs = reconnectDelay(this.attempt, this.options.backoff ?? ROOM_BACKOFF, this.options.random);
    if (code === 4429) delayMs = Math.max(delayMs, FLOOD_WAIT_MS);
    this.attempt += 1;
    this.setStatus("waiting", { delayMs, code });
    this.timer = this.setTimer(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, delayMs);
  }

  private startPing(): void {
    const tick = () => {
      this.pinger = this.setTimer(() => {
        if (this.send({ type: "ping" })) tick();
      }, PING_EVERY_MS);
    };
    tick();
  }

  private clear(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    if (this.pinger !== null) this.clearTimer(this.pinger);
    this.timer = null;
    this.pinger = null;
  }
}
