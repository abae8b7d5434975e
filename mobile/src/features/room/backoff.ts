// How long to wait before the next reconnect: exponential, capped, with jitter
// so that a hundred phones dropped by one server restart do not all come back
// in the same instant.

export interface Backoff {
  base: number; // ms before the first retry (before jitter)
  cap: number; // ms, the longest wait
}

export const ROOM_BACKOFF: Backoff = { base: 500, cap: 30000 };

/**
 * The wait before retry number `attempt` (0 for the first): `min(cap, base·2^attempt)`,
 * then "equal jitter" — half of it fixed, half random — so the wait is never
 * near zero but spreads out. `random` is injectable for tests (0 ≤ r < 1).
 */
export function reconnectDelay(attempt: number, backoff: Backoff = ROOM_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(backoff.cap, backoff.base * 2 ** Math.max(0, Math.min(attempt, 30)));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
