// The live feed (/ws/notifications/): any frame that says something changed makes the
// waiting counts be read again; the socket reconnects after a drop (network lost,
// server restarted) with a growing pause spread by jitter (features/room/backoff.ts),
// so a thousand phones do not all come back in the same instant, and the hello of
// each new connection makes the counts be read again: what was missed is caught up.
import { ref } from "vue";
import { reconnectDelay, type Backoff } from "../features/room/backoff";
import { noteSessionLost } from "../offline/network";

export const connected = ref(false);

type Listener = () => void;
let socket: WebSocket | null = null;
let stopped = true;
let retry = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<Listener>();

/** The feed's pauses: 1 s doubling to 30 s, each between half and all of that (equal jitter). */
export const FEED_BACKOFF: Backoff = { base: 1000, cap: 30000 };

/** Delay before reconnect attempt `n` (ms), jittered; `random` injectable for tests. */
export function backoff(n: number, random: () => number = Math.random): number {
  return reconnectDelay(n, FEED_BACKOFF, random);
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

function onOnline(): void {
  // the phone has a network again: come back now rather than at the end of a long pause
  if (stopped || socket) return;
  clearTimeout(timer);
  retry = 0;
  open();
}

export function startLive(): void {
  if (!stopped) return;
  stopped = false;
  if (typeof window !== "undefined") window.addEventListener("online", onOnline);
  open();
}

export function stopLive(): void {
  stopped = true;
  clearTimeout(timer);
  if (typeof window !== "undefined") window.removeEventListener("online", onOnline);
  const ws = socket;
  socket = null;
  if (ws) {
    ws.onclose = null;
    ws.close(1000);
  }
  connected.value = false;
}

function open(): void {
  if (stopped || typeof WebSocket === "undefined") return;
  const ws = new WebSocket(socketUrl());
  socket = ws;
  ws.onopen = () => {
    connected.value = true;
  };
  ws.onmessage = (event) => {
    let frame: { type?: string } = {};
    try {
      frame = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (frame.type === "hello") retry = 0; // admitted: the next drop starts the pauses over
    if (changesCounts(frame)) listeners.forEach((l) => l());
  };
  ws.onclose = (event) => {
    connected.value = false;
    if (socket === ws) socket = null;
    if (stopped) return;
    // 4401: logged out / session ended (what the phone keeps of the person goes);
    // 4403: no right (expired password): do not insist.
    if (event.code === 4401) noteSessionLost();
    if (event.code === 4401 || event.code === 4403) return;
    timer = setTimeout(open, backoff(retry++));
  };
}
