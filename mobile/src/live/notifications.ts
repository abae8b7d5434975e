// The live feed (/ws/notifications/): any frame that says something changed makes the
// waiting counts be read again; the socket reconnects with a growing pause.
import { ref } from "vue";

export const connected = ref(false);

type Listener = () => void;
let socket: WebSocket | null = null;
let stopped = true;
let retry = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<Listener>();

/** Delay before reconnect attempt `n` (ms): 1 s doubling to 30 s. */
export function backoff(n: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(n, 5));
}

/** Whether a frame changes what the home screen counts. */
export function changesCounts(frame: { type?: string }): boolean {
  return ["hello", "notification", "message_alert", "read"].includes(frame.type ?? "");
}

export function socketUrl(location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/notifications/`;
}

export function onChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function startLive(): void {
  if (!stopped) return;
  stopped = false;
  open();
}

export function stopLive(): void {
  stopped = true;
  clearTimeout(timer);
  socket?.close(1000);
  socket = null;
  connected.value = false;
}

function open(): void {
  if (stopped || typeof WebSocket === "undefined") return;
  const ws = new WebSocket(socketUrl());
  socket = ws;
  ws.onopen = () => {
    connected.value = true;
    retry = 0;
  };
  ws.onmessage = (event) => {
    let frame: { type?: string } = {};
    try {
      frame = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (changesCounts(frame)) listeners.forEach((l) => l());
  };
  ws.onclose = (event) => {
    connected.value = false;
    if (socket === ws) socket = null;
    // 4401: logged out / session ended; 4403: no right (expired password): do not insist.
    if (stopped || event.code === 4401 || event.code === 4403) return;
    timer = setTimeout(open, backoff(retry++));
  };
}
