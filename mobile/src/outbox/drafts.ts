// A case being raised, kept on the phone as it is typed: the template, the
// answers, the location, the people chosen, the photos and voice notes (as
// Blobs). A photo's answer in the form is "local:<key>" until the case is
// sent; the key is also the photo's Idempotency-Key, so it is uploaded once.
import type { Answers, CaseTemplate } from "../features/raise/types";
import type { CaseInput } from "../features/raise/api";

export const LOCAL_PREFIX = "local:";

export interface DraftPhoto {
  key: string; // Idempotency-Key of its upload; the answer holds LOCAL_PREFIX + key
  field: string; // the template's photo field
  blob: Blob; // already downscaled (features/raise/photo.ts)
  name: string;
}

export interface DraftVoice {
  key: string; // the room message's client_id and Idempotency-Key
  blob: Blob;
  name: string;
  durationMs: number | null;
}

export interface DraftPick {
  department: { id: number; name: string };
  people: number[];
}

export interface LocalDraft {
  id: string;
  createdAt: number;
  updatedAt: number;
  template: CaseTemplate | null; // kept whole: the form reopens with no network
  community: number | null;
  communityName: string;
  title: string;
  description: string;
  answers: Answers;
  address: string;
  latitude: string | null;
  longitude: string | null;
  picks: DraftPick[];
  photos: DraftPhoto[];
  voices: DraftVoice[];
  queued: boolean; // handed to the outbox (still kept until the case has arrived)
}

export interface DraftForm {
  community: number | null;
  title: string;
  description: string;
  answers: Answers;
  address: string;
  latitude: string | null;
  longitude: string | null;
}

export function emptyDraft(id: string, now = Date.now()): LocalDraft {
  return {
    id,
    createdAt: now,
    updatedAt: now,
    template: null,
    community: null,
    communityName: "",
    title: "",
    description: "",
    answers: {},
    address: "",
    latitude: null,
    longitude: null,
    picks: [],
    photos: [],
    voices: [],
    queued: false,
  };
}

/** A plain copy of the screen's state (no Vue proxies, nothing shared), ready for IndexedDB. */
export function toDraft(
  base: LocalDraft,
  form: DraftForm,
  extra: { template: CaseTemplate | null; communityName: string; picks: DraftPick[]; photos: DraftPhoto[]; voices: DraftVoice[] },
  now = Date.now(),
): LocalDraft {
  const answers = JSON.parse(JSON.stringify(form.answers ?? {})) as Answers;
  const used = new Set(localKeys(answers));
  return {
    ...base,
    updatedAt: now,
    template: extra.template ? (JSON.parse(JSON.stringify(extra.template)) as CaseTemplate) : null,
    community: form.community,
    communityName: extra.communityName,
    title: form.title,
    description: form.description,
    answers,
    address: form.address,
    latitude: form.latitude,
    longitude: form.longitude,
    picks: extra.picks.map((p) => ({ department: { id: p.department.id, name: p.department.name }, people: [...p.people] })),
    // photos removed from the form are forgotten
    photos: extra.photos.filter((p) => used.has(p.key)).map((p) => ({ ...p })),
    voices: extra.voices.map((v) => ({ ...v })),
  };
}

/** The form's state from a stored draft (copies: editing the form does not edit the record). */
export function fromDraft(draft: LocalDraft): DraftForm {
  return {
    community: draft.community,
    title: draft.title,
    description: draft.description,
    answers: JSON.parse(JSON.stringify(draft.answers ?? {})) as Answers,
    address: draft.address,
    latitude: draft.latitude,
    longitude: draft.longitude,
  };
}

/** The photo keys named by photo answers ("local:<key>"), in order. */
export function localKeys(answers: Answers): string[] {
  const keys: string[] = [];
  for (const value of Object.values(answers)) {
    const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
    for (const ref of list) if (ref.startsWith(LOCAL_PREFIX)) keys.push(ref.slice(LOCAL_PREFIX.length));
  }
  return keys;
}

/** The answers with each local photo reference replaced by its upload id (throws if one is missing). */
export function resolveAnswers(answers: Answers, uploaded: Record<string, string>): Answers {
  const out: Answers = {};
  for (const [field, value] of Object.entries(answers)) {
    const swap = (ref: string) => {
      if (!ref.startsWith(LOCAL_PREFIX)) return ref;
      const id = uploaded[ref.slice(LOCAL_PREFIX.length)];
      if (!id) throw new Error(`photo ${ref} is not uploaded`);
      return id;
    };
    out[field] = Array.isArray(value) ? value.map(swap) : typeof value === "string" ? swap(value) : value;
  }
  return out;
}

/** What `POST cases/` gets for this draft, photos still as local references. */
export function caseInput(draft: LocalDraft, answers: Answers, submit: boolean): CaseInput {
  return {
    community: draft.community as number,
    title: draft.title,
    description: draft.description,
    template: draft.template?.id ?? null,
    answers,
    address: draft.address,
    latitude: draft.latitude,
    longitude: draft.longitude,
    invitees: draft.picks.flatMap((p) => p.people.map((person) => ({ department: p.department.id, person }))),
    submit,
  };
}

/** What a draft holds, for the 待发送 list: counts of photos, voice notes, people, and whether located. */
export function draftContents(draft: LocalDraft): { photos: number; voices: number; people: number; located: boolean } {
  return {
    photos: localKeys(draft.answers).length,
    voices: draft.voices.length,
    people: draft.picks.reduce((n, p) => n + p.people.length, 0),
    located: draft.latitude !== null && draft.longitude !== null,
  };
}
