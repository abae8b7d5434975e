// Who is logged in (the session cookie is http-only: the page only ever sees `me/`).
import { ref } from "vue";
import { api, ApiError, UNREACHABLE_STATUSES } from "../api/http";
import type { Me } from "../api/types";
import { claimOwner, forgetAll, recall, remember } from "../offline/lastKnown";

export const me = ref<Me | null>(null);
/** Whether `me/` was asked once (so the router knows to wait or to send to /login). */
let checked = false;

/** The CSRF cookie, fetched once before the first write (GET auth/session/). */
export async function ensureCsrf(): Promise<void> {
  if (!document.cookie.includes("csrftoken=")) await api<void>("auth/session/");
}

/** `me/` as last read, when the server could not be reached (ms since the epoch), else null. */
export const meSavedAt = ref<number | null>(null);

/** Read `me/`; null when not logged in (401/403 other than an expired password).
 *  With no network, the phone's last copy of `me/` (the same person's, see
 *  offline/lastKnown.ts), so the app still opens; throws when there is none. */
export async function loadMe(): Promise<Me | null> {
  if (!(await finishPendingLogout())) {
    // logged out with no network, still none: logged out here whatever the cookie says
    me.value = null;
    meSavedAt.value = null;
    checked = true;
    return null;
  }
  try {
    const fresh = await api<Me>("me/");
    await claimOwner(fresh.id);
    me.value = fresh;
    meSavedAt.value = null;
    void remember("me/", fresh);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      me.value = null;
      meSavedAt.value = null;
      await forgetAll();
    } else if (error instanceof ApiError && error.status === 0) {
      const known = await recall<Me>("me/");
      if (!known) throw error;
      me.value = known.data;
      meSavedAt.value = known.savedAt;
    } else throw error;
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
  const fresh = await api<Me>("auth/session/", { method: "POST", body });
  localStorage.removeItem(LOGOUT_PENDING); // the new session replaced the old one
  await claimOwner(fresh.id);
  me.value = fresh;
  meSavedAt.value = null;
  checked = true;
  return fresh;
}

/** A log-out the server has not heard yet (there was no network): sent first thing when it can be. */
export const LOGOUT_PENDING = "jinshao.logout.pending";

const unreachable = (error: unknown) => error instanceof ApiError && (error.status === 0 || UNREACHABLE_STATUSES.includes(error.status));

/** Send a log-out made with no network. True when none is left waiting. */
export async function finishPendingLogout(): Promise<boolean> {
  if (!localStorage.getItem(LOGOUT_PENDING)) return true;
  try {
    await api<void>("auth/session/", { method: "DELETE" });
  } catch (error) {
    if (unreachable(error)) return false;
    // any other answer (the session had already ended): nothing left to end
  }
  localStorage.removeItem(LOGOUT_PENDING);
  return true;
}

if (typeof window !== "undefined") window.addEventListener("online", () => void finishPendingLogout());

/** Log out here and on the server. With no network the phone forgets the person at once and
 *  the server's session is ended as soon as the phone reaches it (LOGOUT_PENDING): until
 *  then this app treats the phone as logged out. */
export async function logOut(): Promise<void> {
  try {
    await api<void>("auth/session/", { method: "DELETE" });
    localStorage.removeItem(LOGOUT_PENDING);
  } catch (error) {
    if (!unreachable(error)) throw error;
    localStorage.setItem(LOGOUT_PENDING, "1");
  } finally {
    me.value = null;
    meSavedAt.value = null;
    checked = true;
    await forgetAll(); // nothing of this person stays on the phone
  }
}

export function hasRole(user: Me | null, ...roles: string[]): boolean {
  return !!user && user.roles.some((r) => roles.includes(r.role));
}
