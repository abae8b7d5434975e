// One write to the server over XMLHttpRequest (not fetch): the upload's
// progress can be shown and the person can cancel it. Same headers and error
// shape as src/api/http.ts: the session cookie, Django's CSRF token, JSON,
// and every refusal an ApiError carrying the server's Chinese message.
import { ApiError, csrfToken, toApiError } from "../api/http";
import { t } from "../i18n";

export interface SendOptions {
  method?: "POST" | "PATCH" | "PUT" | "DELETE";
  body?: unknown; // FormData as multipart, anything else as JSON
  idempotencyKey?: string;
  onProgress?: (sent: number, total: number) => void; // bytes of the request body
  signal?: AbortSignal;
}

/** Path under /api/v1/. Rejects with ApiError (status 0: no answer) or an AbortError. */
export function send<T>(path: string, options: SendOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(options.method ?? "POST", `/api/v1/${path.replace(/^\//, "")}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    if (options.idempotencyKey) xhr.setRequestHeader("Idempotency-Key", options.idempotencyKey);
    let body: XMLHttpRequestBodyInit | null = null;
    if (options.body instanceof FormData) body = options.body;
    else if (options.body !== undefined) {
      xhr.setRequestHeader("Content-Type", "application/json");
      body = JSON.stringify(options.body);
    }
    if (options.onProgress) {
      const report = options.onProgress;
      xhr.upload.onprogress = (event) => report(event.loaded, event.lengthComputable ? event.total : 0);
    }
    const abort = () => xhr.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    const done = () => options.signal?.removeEventListener("abort", abort);
    xhr.onload = () => {
      done();
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as T);
      else reject(toApiError(xhr.status, data));
    };
    const unreachable = () => {
      done();
      const offline = typeof navigator !== "undefined" && navigator.onLine === false;
      reject(new ApiError(0, "network", offline ? t("common.offline") : t("common.serverUnreachable")));
    };
    xhr.onerror = unreachable;
    xhr.ontimeout = unreachable;
    xhr.onabort = () => {
      done();
      reject(new DOMException("cancelled", "AbortError"));
    };
    if (options.signal?.aborted) {
      xhr.abort();
      return;
    }
    xhr.send(body);
  });
}
