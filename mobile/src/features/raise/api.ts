// The raise screens' calls, all through the one API client (src/api/http.ts).
import { api } from "../../api/http";
import type { Answers, CaseTemplate, DepartmentBrief, Invitee, Page, Staff } from "./types";

/** Every page of a picker list (PickerPagination: `?page=`, at most 100 a page). */
export async function fetchAll<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; page <= 50; page++) {
    const data = await api<Page<T> | T[]>(path, { query: { ...query, page, page_size: 100 } });
    if (Array.isArray(data)) return data;
    items.push(...data.results);
    if (!data.next) break;
  }
  return items;
}

export const listTemplates = () => fetchAll<CaseTemplate>("templates/");
export const getTemplate = (id: number) => api<CaseTemplate>(`templates/${id}/`);
export const departmentsServing = (community: number) =>
  fetchAll<DepartmentBrief>("departments/", { community });
/** People on duty in a department (the staff API lists only those). */
export const staffOnDuty = (department: number) => fetchAll<Staff>("staff/", { department });

export interface MeRole {
  role: string;
  role_label: string;
  area: { id: number; name: string; level: number } | null;
  department: { id: number; name: string } | null;
}

export interface Me {
  id: number;
  username: string;
  name: string;
  roles: MeRole[];
}

export const getMe = () => api<Me>("me/");

/** Communities I raise cases for: village officials' own (level 4 areas). */
export function myCommunities(me: Me): { id: number; name: string }[] {
  const seen = new Map<number, string>();
  for (const role of me.roles) {
    if ((role.role === "village_official" || role.role === "commander") && role.area?.level === 4)
      seen.set(role.area.id, role.area.name);
  }
  return [...seen].map(([id, name]) => ({ id, name }));
}

export interface CaseInput {
  community: number;
  title: string;
  description: string;
  template: number | null;
  answers: Answers;
  address: string;
  latitude: string | null; // decimal text, 6 places
  longitude: string | null;
  invitees: Invitee[];
  submit: boolean;
}

export interface CaseInvitation {
  id: number;
  department: DepartmentBrief;
  person: { id: number; name: string };
  state: string;
  state_label: string;
  reason: string;
}

export interface CaseDetail {
  id: number;
  number: string;
  title: string;
  state: string;
  state_label: string;
  community: { id: number; name: string };
  category: { id: number; name: string } | null;
  description: string;
  template: number | null;
  answers: Answers;
  address: string;
  latitude: string | null;
  longitude: string | null;
  caller: { id: number; name: string };
  invitations: CaseInvitation[];
  participants: { id: number; name: string }[];
  allowed_transitions: string[];
  available_actions?: string[];
}

export const createCase = (input: CaseInput) => api<CaseDetail>("cases/", { method: "POST", body: input });
export const getCase = (id: number) => api<CaseDetail>(`cases/${id}/`);
export const updateDraft = (id: number, changes: Partial<Omit<CaseInput, "invitees" | "submit" | "community" | "template">>) =>
  api<CaseDetail>(`cases/${id}/`, { method: "PATCH", body: changes });
export const submitCase = (id: number) => api<CaseDetail>(`cases/${id}/submit/`, { method: "POST", body: {} });
export const cancelCase = (id: number, reason: string) =>
  api<CaseDetail>(`cases/${id}/cancel/`, { method: "POST", body: { reason } });
export const invitePerson = (id: number, invitee: Invitee, note = "") =>
  api<CaseInvitation>(`cases/${id}/invitations/`, { method: "POST", body: { ...invitee, note } });
export const redispatchCase = (id: number, invitees: Invitee[], note = "") =>
  api<CaseDetail>(`cases/${id}/redispatch/`, { method: "POST", body: { invitees, note } });

/** A photo for a template's photo field, as `POST uploads/` answers (cases/api/uploads.py). */
export interface PhotoUpload {
  id: string; // what the photo field's answer lists
  content_type: string;
  size: number;
  width: number;
  height: number;
  created_at: string;
  expires_at: string; // unused uploads expire
}

/**
 * Upload a photo for a template's photo field before the case exists; the
 * server re-encodes and watermarks it and keeps it for its uploader. Its `id`
 * goes into the field's answer; raising the case or editing the draft claims it.
 */
export function uploadFieldPhoto(file: File): Promise<PhotoUpload> {
  const body = new FormData();
  body.append("file", file);
  return api<PhotoUpload>("uploads/", { method: "POST", body });
}

/** Where an uploaded field photo is shown (its uploader, and whoever sees the case). */
export const fieldPhotoUrl = (id: string) => `/api/v1/uploads/${encodeURIComponent(id)}/file/`;
