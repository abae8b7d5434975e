// The commander's review queue of deliveries from other systems that could not
// become cases by themselves (integrations/api/views.py IntakeReviewViewSet).
import { api } from "../../api/http";
import { nextCursor, type Page } from "../../api/types";
import { fetchAll, listTemplates } from "../raise/api";

/** One entry as `GET intake-reviews/` lists it (pending ones by default). */
export interface IntakeReview {
  id: number;
  system: string; // the sending system's name
  external_id: string;
  case_fields: { title?: string; description?: string; address?: string; priority?: string };
  problems: string[]; // why it waits, already in words
  community: number | null; // the community it maps to, when known
  state: string; // pending / resolved / dismissed
  case: number | null; // the case made from it
  note: string;
  created_at: string;
  decided_at: string | null;
}

export interface Community {
  id: number;
  name: string;
  town?: { name: string } | null;
}

/** The pending entries, newest first, following the cursor to the end (at most 20 pages). */
export async function listReviews(): Promise<IntakeReview[]> {
  const items: IntakeReview[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page: Page<IntakeReview> = await api<Page<IntakeReview>>("intake-reviews/", { query: cursor ? { cursor } : {} });
    items.push(...page.results);
    cursor = nextCursor(page.next);
    if (!cursor) break;
  }
  return items;
}

/** Make the case from the entry: 201 with the entry, now `resolved` with its `case`. */
export const resolveReview = (id: number, template: number, community: number, remember = false) =>
  api<IntakeReview>(`intake-reviews/${id}/resolve/`, { method: "POST", body: { template, community, remember } });

/** Refuse the entry with a reason (required, at most 2000 characters). */
export const dismissReview = (id: number, reason: string) => api<IntakeReview>(`intake-reviews/${id}/dismiss/`, { method: "POST", body: { reason } });

/** The communities I may raise cases for (`GET areas/`). */
export const listCommunities = () => fetchAll<Community>("areas/");
export { listTemplates };
