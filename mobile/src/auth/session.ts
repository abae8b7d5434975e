// Who is logged in (the session cookie is http-only: the page only ever sees `me/`).
import { ref } from "vue";
import { api, ApiError } from "../api/http";
import type { Me } from "../api/types";

export const me = ref<Me | null>(null);
/** Whether `me/` was asked once (so the router knows to wait or to send to /login). */
let checked = false;

/** The CSRF cookie, fetched once before the first write (GET auth/session/). */
export async function ensureCsrf(): Promise<void> {
  if (!document.cookie.includes("csrftoken=")) await api<void>("auth/session/");
}

/** Read `me/`; null when not logged in (401/403 other than an expired password). */
export async function loadMe(): Promise<Me | null> {
  try {
    me.value = await api<Me>("me/");
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) me.value = null;
    else throw error;
  } finally {
    checked = true;
  }
  return me.value;
}

let asking: Promise<Me | null> | null = null;

/** Who is logged in: `me/` asked once, by everyone who needs it first, then remembered. */
export async function currentUser(): Promise<Me | null> {
  if (checked) return me.value;
  asking ??= loadMe().finally(() => (asking = null));
  return asking;
}

export async function logIn(username: string, password: string, otp?: string): Promise<Me> {
  await ensureCsrf();
  const body: Record<string, string> = { username, password };
  if (otp) body.otp = otp;
  me.value = await api<Me>("auth/session/", { method: "POST", body });
  checked = true;
  return me.value;
}

export async function logOut(): Promise<void> {
  try {
    await api<void>("auth/session/", { method: "DELETE" });
  } finally {
    me.value = null;
  }
}

export function hasRole(user: Me | null, ...roles: string[]): boolean {
  return !!user && user.roles.some((r) => roles.includes(r.role));
}
