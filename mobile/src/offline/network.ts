// Whether the phone can reach the server, for the banner every screen shows
// (OfflineBanner.vue): the browser's own online/offline flag, and what the API
// calls learn (a fetch that fails while the browser says online = the server
// cannot be reached; any answer at all = it can). Also where the API reports a
// lost session, so the person's data kept on the phone can be forgotten.
import { computed, ref } from "vue";
import { reconnectDelay, type Backoff } from "../features/room/backoff";

/** The browser's flag (navigator.onLine): false = no network at all. */
export const online = ref(typeof navigator === "undefined" ? true : navigator.onLine !== false);
/** The last API call failed to reach the server although the browser says online. */
export const unreachable = ref(false);

export type NetworkState = "online" | "offline" | "unreachable";

/** One word for the banner: offline wins over unreachable. */
export const networkState = computed<NetworkState>(() => (!online.value ? "offline" : unreachable.value ? "unreachable" : "online"));

const backListeners = new Set<() => void>();
const lostListeners = new Set<() => void>();

/** Called when the server answers again after being unreachable/offline (catch up). */
export function onBackOnline(listener: () => void): () => void {
  backListeners.add(listener);
  return () => backListeners.delete(listener);
}

/** Called when the server says the session is gone (401, or 403 "not logged in"). */
export function onSessionLost(listener: () => void): () => void {
  lostListeners.add(listener);
  return () => lostListeners.delete(listener);
}

function wasDown(): boolean {
  return !online.value || unreachable.value;
}

/** How often the banner's probe asks /health/live while the server is away (jittered). */
export const PROBE_BACKOFF: Backoff = { base: 2000, cap: 60000 };
let probeTimer: ReturnType<typeof setTimeout> | undefined;
let probeAttempt = 0;

/** An API call got an answer (any status): the server is reachable. */
export function noteReachable(): void {
  const down = wasDown();
  unreachable.value = false;
  online.value = true;
  probeAttempt = 0;
  clearTimeout(probeTimer);
  probeTimer = undefined;
  if (down) backListeners.forEach((l) => l());
}

/** An API call could not reach the server. */
export function noteUnreachable(): void {
  if (typeof navigator !== "undefined" && navigator.onLine === false) online.value = false;
  else unreachable.value = true;
  scheduleProbe();
}

/** While the server is away, ask the cheapest address now and then, so the banner
 *  goes away by itself when it is back (no screen needs to call the API for that). */
function scheduleProbe(delay = reconnectDelay(probeAttempt, PROBE_BACKOFF)): void {
  if (probeTimer !== undefined || typeof fetch === "undefined" || typeof window === "undefined") return;
  probeTimer = setTimeout(async () => {
    probeTimer = undefined;
    if (!online.value && navigator.onLine === false) return; // the "online" event restarts it
    try {
      await fetch("/health/live", { cache: "no-store" });
      noteReachable();
    } catch {
      probeAttempt += 1;
      noteUnreachable();
    }
  }, delay);
}

/** The session ended (401 anywhere; 403 whose code says "not logged in"). */
export function noteSessionLost(): void {
  lostListeners.forEach((l) => l());
}

/** Error codes of a 403 that mean "no session", not "not this case" (core/api/errors.py). */
export const SESSION_CODES = new Set(["not_authenticated", "authentication_failed", "token_not_valid"]);

/** Whether an API refusal means the person's session is gone. */
export function isSessionLost(status: number, code: string): boolean {
  return status === 401 || (status === 403 && SESSION_CODES.has(code));
}

let watching = false;
/** Follow the browser's online/offline events (once, from main.ts). */
export function watchNetwork(target: Window = window): void {
  if (watching) return;
  watching = true;
  target.addEventListener("offline", () => (online.value = false));
  target.addEventListener("online", () => {
    online.value = true;
    // "online" only says a network is up: ask the server at once whether it is.
    unreachable.value = true;
    probeAttempt = 0;
    clearTimeout(probeTimer);
    probeTimer = undefined;
    scheduleProbe(0);
  });
}
