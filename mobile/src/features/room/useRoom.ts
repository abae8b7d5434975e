// The room's behaviour for the page: the log (server messages + my outbox),
// the socket, uploads over HTTP, read marks, catching up after a drop.
import { onBeforeUnmount, reactive, ref, watch } from "vue";
import { api, ApiError } from "../../api/http";
import { t } from "../../i18n";
import { RoomConnection, roomUrl, type ConnectionStatus } from "./connection";
import { downscalePhoto } from "../raise/photo";
import { newClientId, RoomLog, type OutboxItem } from "./outbox";
import type { History, RoomMessage, ServerFrame } from "./types";
import { forget, recall, remember } from "../../offline/lastKnown";
import { outbox } from "../../outbox";
import { messageItem, type MessagePayload } from "../../outbox/handlers";
import type { OutboxRecord } from "../../outbox/machine";

export const PAGE = 100;

export function useRoom(caseId: number) {
  const log = reactive(new RoomLog()) as RoomLog;
  const status = ref<ConnectionStatus>("connecting");
  const retryInMs = ref(0);
  const ended = ref<{ code: number; message: string } | null>(null);
  const caseState = ref("");
  const lastRead = ref(0); // the server's read mark
  const dividerAfter = ref<number | null>(null); // the read mark when the room opened: "new messages" below
  const hasEarlier = ref(false);
  const notice = ref(""); // an error the server sent that names no message
  let baseline = 0; // hello's last id while the first page loads over HTTP
  // The phone's copy of the newest messages (offline/lastKnown.ts): shown until the
  // socket says hello; the resume after its last id then fetches what was missed.
  const savedAt = ref<number | null>(null);
  const kept = `cases/${caseId}/messages/#newest`;
  void recall<History>(kept).then((known) => {
    if (!known || log.messages.length || status.value === "open") return;
    log.receive(known.data.messages);
    hasEarlier.value = known.data.has_more;
    savedAt.value = known.savedAt;
  });
  let saving: ReturnType<typeof setTimeout> | undefined;
  function keep() {
    clearTimeout(saving);
    saving = setTimeout(() => {
      if (savedAt.value !== null || !log.messages.length) return; // only what the server gave, live
      const newest = log.messages.slice(-PAGE);
      void remember<History>(kept, { messages: newest, has_more: hasEarlier.value || log.messages.length > PAGE, last_read_id: lastRead.value });
    }, 1000);
  }
  watch(() => log.lastId, keep);

  const connection = new RoomConnection({
    url: roomUrl(caseId),
    lastId: () => Math.max(log.lastId, baseline),
    hooks: {
      status: (next, detail) => {
        status.value = next;
        retryInMs.value = detail.delayMs ?? 0;
      },
      ended: (code, error) => {
        if (code === 4401 || code === 4403 || code === 4404) void forget(kept); // no longer this person's room
        ended.value = { code, message: error?.message ?? (code === 4401 ? t("room.loginAgain") : t("room.endedDefault")) };
      },
      frame: onFrame,
    },
  });

  function onFrame(frame: ServerFrame) {
    switch (frame.type) {
      case "hello":
        savedAt.value = null; // live again: the copy is caught up by the resume that follows
        keep();
        caseState.value = frame.case.state;
        lastRead.value = frame.last_read_id;
        if (dividerAfter.value === null) dividerAfter.value = frame.last_read_id;
        if (!log.messages.length && frame.last_message_id > 0) {
          baseline = frame.last_message_id;
          void firstPage(frame.last_message_id);
        }
        break;
      case "message":
        log.receive([frame.message]);
        break;
      case "history":
        log.receive(frame.messages);
        break;
      case "ack":
        log.acknowledge(frame.client_id, frame.id);
        break;
      case "read":
        lastRead.value = Math.max(lastRead.value, frame.last_read_id);
        break;
      case "error":
        if (frame.client_id && log.find(frame.client_id)) log.fail(frame.client_id, frame.message);
        else if (frame.code !== "live_delivery_failed") notice.value = frame.message;
        break;
    }
  }

  /** The newest page up to `last` (over HTTP: a long room does not replay from its first message). */
  async function firstPage(last: number) {
    try {
      const page = await api<History>(`cases/${caseId}/messages/`, { query: { before: last + 1, limit: PAGE } });
      log.receive(page.messages);
      hasEarlier.value = page.has_more;
      lastRead.value = Math.max(lastRead.value, page.last_read_id);
    } catch (error) {
      if (error instanceof ApiError) notice.value = error.message;
    } finally {
      baseline = 0;
    }
  }

  async function loadEarlier() {
    if (!log.firstId) return;
    const page = await api<History>(`cases/${caseId}/messages/`, { query: { before: log.firstId, limit: PAGE } });
    log.receive(page.messages);
    hasEarlier.value = page.has_more;
  }

  // ---- my messages go through the phone's outbox (src/outbox): kept in IndexedDB
  // until the server has them, sent in order, retried with backoff under their
  // client_id (also their Idempotency-Key). The room shows them sending → sent
  // (or failed, with the server's reason) from the outbox's items.
  const mine = (item: OutboxRecord) =>
    item.kind === "message" && (item.payload as MessagePayload).caseId === caseId;

  function show(item: OutboxRecord) {
    const payload = item.payload as MessagePayload;
    let entry = log.find(payload.clientId);
    if (!entry && item.state !== "sent") {
      const previewUrl = payload.blob && payload.kind === "image" ? URL.createObjectURL(payload.blob) : "";
      entry = log.enqueue({
        clientId: payload.clientId,
        kind: payload.kind,
        text: payload.text,
        file: payload.blob ? new File([payload.blob], payload.name, { type: payload.blob.type }) : null,
        previewUrl,
        width: payload.width,
        height: payload.height,
      });
    }
    if (!entry) return;
    if (item.state === "sent" && item.result) {
      const message = item.result as RoomMessage;
      log.acknowledge(payload.clientId, message.id);
      log.receive([message]);
    } else if (item.state === "failed") {
      entry.state = "sending";
      log.fail(payload.clientId, item.error || t("room.uploadFailed"));
    } else if (item.state === "waiting" || item.state === "sending") {
      entry.state = "sending";
      entry.error = "";
    }
  }
  const unlisten = outbox.on((item) => {
    if (!mine(item)) return;
    if (!outbox.get(item.id)) log.discard((item.payload as MessagePayload).clientId); // discarded
    else show(item);
  });
  void outbox.start().then(() => {
    for (const item of outbox.items) if (mine(item) && item.state !== "sent") show(item);
  });

  function queue(payload: Omit<MessagePayload, "caseId">) {
    log.enqueue({
      clientId: payload.clientId,
      kind: payload.kind,
      text: payload.text,
      file: payload.blob as File | null,
      previewUrl: payload.blob && payload.kind === "image" ? URL.createObjectURL(payload.blob) : "",
      width: payload.width,
      height: payload.height,
    });
    void outbox.add(messageItem({ caseId, ...payload }));
  }

  function sendText(text: string) {
    const body = text.trim();
    if (!body) return;
    queue({ clientId: newClientId(), kind: "text", text: body, blob: null, name: "", width: null, height: null });
  }

  /** Send a photo, voice note, video or file; photos are made smaller first. */
  async function sendFile(file: File, kind: OutboxItem["kind"], extra: Partial<OutboxItem> = {}) {
    let body = file;
    let width: number | null = null;
    let height: number | null = null;
    let previewUrl = "";
    if (kind === "image") {
      body = await downscalePhoto(file);
      previewUrl = URL.createObjectURL(body);
      const size = await imageSize(previewUrl);
      width = size?.width ?? null;
      height = size?.height ?? null;
    }
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    queue({
      clientId: newClientId(),
      kind: kind as MessagePayload["kind"],
      text: extra.text ?? "",
      blob: body,
      name: body.name,
      width,
      height,
      durationMs: (extra as { durationMs?: number }).durationMs ?? null,
    });
  }

  const itemOf = (clientId: string) => outbox.items.find((i) => mine(i) && (i.payload as MessagePayload).clientId === clientId);

  function retry(clientId: string) {
    const item = itemOf(clientId);
    if (!item) return;
    log.retry(clientId);
    void outbox.retry(item.id);
  }

  /** How much of an upload has gone (0–1), while it is being sent; undefined otherwise. */
  function progressOf(clientId: string): number | undefined {
    const item = itemOf(clientId);
    return item ? outbox.progress[item.id] : undefined;
  }

  /** Stop an upload in flight (it shows failed: cancelled, to retry or discard). */
  function cancel(clientId: string) {
    const item = itemOf(clientId);
    if (item) outbox.cancel(item.id);
  }

  /** Forget a failed message: it is never sent. */
  function discard(clientId: string) {
    const item = itemOf(clientId);
    if (item) void outbox.discard(item.id);
    log.discard(clientId);
  }

  /** Tell the server I have read up to the newest message. */
  function markRead() {
    const last = log.lastId;
    if (!last || last <= lastRead.value) return;
    lastRead.value = last;
    if (!connection.send({ type: "read", up_to: last }))
      void api(`cases/${caseId}/messages/read/`, { method: "POST", body: { up_to: last } }).catch(() => undefined);
  }

  const online = () => connection.reconnectNow();
  window.addEventListener("online", online);
  connection.start();

  onBeforeUnmount(() => {
    clearTimeout(saving);
    unlisten();
    window.removeEventListener("online", online);
    connection.stop();
    for (const item of log.outbox) if (item.previewUrl) URL.revokeObjectURL(item.previewUrl);
  });

  return {
    log,
    savedAt,
    status,
    retryInMs,
    ended,
    caseState,
    lastRead,
    dividerAfter,
    hasEarlier,
    notice,
    sendText,
    sendFile,
    retry,
    progressOf,
    cancel,
    discard,
    markRead,
    loadEarlier,
    reconnectNow: () => connection.reconnectNow(),
  };
}

function imageSize(url: string): Promise<{ width: number; height: number } | null> {
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => resolve({ width: image.naturalWidth, height: image.naturalHeight });
    image.onerror = () => resolve(null);
    image.src = url;
  });
}
