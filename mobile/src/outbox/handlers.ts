// What each kind of outbox item sends. Every request carries the item's own
// Idempotency-Key (a room message: its client_id), kept with the item, so a
// retry after a lost answer is answered with the first result.
import type { CaseDetail, PhotoUpload } from "../features/raise/api";
import type { RoomMessage } from "../features/room/types";
import { deleteDraft, rememberUpload, uploadedId } from "./db";
import { caseInput, localKeys, resolveAnswers, type LocalDraft } from "./drafts";
import { newRecord, type ItemKind, type OutboxRecord } from "./machine";
import type { Handler, HandlerContext } from "./outbox";
import { send } from "./transport";

// ---------------------------------------------------------------- items

/** A photo for a template field, uploaded as soon as it is taken (the case's item reuses it). */
export interface UploadPayload {
  draftId: string;
  key: string; // Idempotency-Key; the draft's photo key
  blob: Blob;
  name: string;
}

/** Raising a case from a local draft: its photos, then the case, then its voice notes. */
export interface CasePayload {
  draft: LocalDraft; // a snapshot taken when it was queued
  submit: boolean;
  createKey: string; // Idempotency-Key of POST cases/
}
export interface CaseResult {
  uploads: Record<string, string>; // photo key → upload id
  voicesSent: string[]; // voice keys posted
}

/** A room message: text, or a photo / voice note / video / file. */
export interface MessagePayload {
  caseId: number;
  clientId: string; // the message's client_id and Idempotency-Key
  kind: "text" | "image" | "voice" | "video" | "file";
  text: string;
  blob: Blob | null;
  name: string;
  width: number | null;
  height: number | null;
  durationMs?: number | null;
}

export function uploadItem(payload: UploadPayload): OutboxRecord<UploadPayload> {
  return newRecord({ kind: "upload", group: `draft:${payload.draftId}`, payload });
}

export function caseItem(payload: CasePayload): OutboxRecord<CasePayload> {
  return newRecord({ kind: "case", group: `draft:${payload.draft.id}`, payload });
}

export function messageItem(payload: MessagePayload): OutboxRecord<MessagePayload> {
  return newRecord({ kind: "message", group: `room:${payload.caseId}`, payload, caseId: payload.caseId });
}

// ---------------------------------------------------------------- sending

async function uploadPhoto(key: string, blob: Blob, name: string, context: HandlerContext, share = [0, 1]): Promise<string> {
  const known = await uploadedId(key);
  if (known) return known;
  const body = new FormData();
  body.append("file", new File([blob], name || "photo.jpg", { type: blob.type || "image/jpeg" }));
  const answer = await send<PhotoUpload>("uploads/", {
    body,
    idempotencyKey: key,
    signal: context.signal,
    onProgress: (sent, total) => total && context.progress(share[0] + (share[1] - share[0]) * (sent / total)),
  });
  await rememberUpload(key, answer.id);
  return answer.id;
}

const sendUpload: Handler = async (item, context) => {
  const payload = item.payload as UploadPayload;
  const id = await uploadPhoto(payload.key, payload.blob, payload.name, context);
  item.result = { uploadId: id };
};

const sendCase: Handler = async (item, context) => {
  const { draft, submit, createKey } = item.payload as CasePayload;
  const result = (item.result ?? { uploads: {}, voicesSent: [] }) as CaseResult;
  item.result = result;
  const keys = localKeys(draft.answers);
  const steps = keys.length + 1 + draft.voices.length;
  let step = 0;
  const share = () => [step / steps, (step + 1) / steps];
  for (const key of keys) {
    const photo = draft.photos.find((p) => p.key === key);
    if (!result.uploads[key]) {
      if (!photo) throw new Error(`photo ${key} is missing from the draft`);
      result.uploads[key] = await uploadPhoto(key, photo.blob, photo.name, context, share());
      await context.save();
    }
    step++;
  }
  if (item.caseId === null) {
    const body = caseInput(draft, resolveAnswers(draft.answers, result.uploads), submit);
    const created = await send<CaseDetail>("cases/", { body, idempotencyKey: createKey, signal: context.signal });
    item.caseId = created.id;
    await context.save();
  }
  step++;
  for (const voice of draft.voices) {
    if (!result.voicesSent.includes(voice.key)) {
      await postMessage(
        { caseId: item.caseId, clientId: voice.key, kind: "voice", text: "", blob: voice.blob, name: voice.name, width: null, height: null },
        context,
        share(),
      );
      result.voicesSent.push(voice.key);
      await context.save();
    }
    step++;
  }
  context.progress(1);
  await deleteDraft(draft.id);
};

function postMessage(payload: MessagePayload, context: HandlerContext, share = [0, 1]): Promise<RoomMessage> {
  const path = `cases/${payload.caseId}/messages/`;
  if (payload.kind === "text")
    return send<RoomMessage>(path, { body: { text: payload.text, client_id: payload.clientId }, idempotencyKey: payload.clientId, signal: context.signal });
  const body = new FormData();
  body.append("kind", payload.kind);
  body.append("file", new File([payload.blob as Blob], payload.name || "file", { type: (payload.blob as Blob).type }));
  body.append("client_id", payload.clientId);
  if (payload.text) body.append("text", payload.text);
  return send<RoomMessage>(path, {
    body,
    idempotencyKey: payload.clientId,
    signal: context.signal,
    onProgress: (sent, total) => total && context.progress(share[0] + (share[1] - share[0]) * (sent / total)),
  });
}

const sendMessage: Handler = async (item, context) => {
  item.result = await postMessage(item.payload as MessagePayload, context);
};

export const HANDLERS: Record<ItemKind, Handler> = { upload: sendUpload, case: sendCase, message: sendMessage };
