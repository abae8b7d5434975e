// The one way the app talks to the server: same-origin fetch with the session
// cookie and Django's CSRF token, JSON in and out, and every refusal turned
// into an ApiError that carries the server's own Chinese message.
import { t } from "../i18n";
import { isSessionLost, noteReachable, noteSessionLost, noteUnreachable } from "../offline/network";

export interface FieldErrors {
  [field: string]: string[];
}

/** A refusal or failure, ready to show: `message` is for people, `code` for code. */
export class ApiError extends Error {
  constructor(
    public status: number, // HTTP status; 0 when the server could not be reached
    public code: string, // the server's error code ("not_allowed", "locked_out", ...) or "network"
    message: string,
    public fields: FieldErrors = {},
    public body: unknown = null,
  ) {
    super(message);
  }
}

/** A proxy's answers when the app server behind it is down (502, 503, 504). */
export const UNREACHABLE_STATUSES = [502, 503, 504];

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown; // a plain object is sent as JSON; FormData as multipart
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Path under /api/v1/, e.g. api("cases/", { query: { state: "draft" } }). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const url = new URL(`/api/v1/${path.replace(/^\//, "")}`, window.location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  if (method !== "GET") {
    // The shell now comes from the service worker's precache, not from Django (which set
    // the CSRF cookie with it): fetch the cookie first if the browser has none.
    if (!csrfToken()) await api<void>("auth/session/", { signal: options.signal });
    headers["X-CSRFToken"] = csrfToken();
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin", signal: options.signal });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    noteUnreachable(); // the banner: offline or server unreachable
    const offline = typeof navigator !== "undefined" && navigator.onLine === false;
    throw new ApiError(0, "network", offline ? t("common.offline") : t("common.serverUnreachable"));
  }
  // a proxy's "bad gateway / unavailable / timeout": the server itself is away
  if (UNREACHABLE_STATUSES.includes(response.status)) noteUnreachable();
  else noteReachable();
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = toApiError(response.status, data);
    // the session is gone: what the phone keeps of this person goes with it
    if (isSessionLost(error.status, error.code)) noteSessionLost();
    throw error;
  }
  return data as T;
}

/** The server's one error shape (core/api/errors.py):
 *  {"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}} */
export function toApiError(status: number, data: unknown): ApiError {
  const error = ((data ?? {}) as { error?: { code?: unknown; message?: unknown; fields?: unknown } }).error ?? {};
  const fields: FieldErrors = {};
  for (const [key, value] of Object.entries((error.fields ?? {}) as Record<string, unknown>)) {
    fields[key] = Array.isArray(value) ? value.map(String) : [String(value)];
  }
  const message = typeof error.message === "string" && error.message ? error.message : t("common.unexpected", { status });
  const code = typeof error.code === "string" ? error.code : `http_${status}`;
  return new ApiError(status, code, message, fields, data);
}
