// Which departments the caller rates, and whether every score is given, as
// ratings/services.py checks it: each department that accepted an invitation
// and is not yet rated, each active criterion a whole number 0–100.
import type { CaseDetail } from "../raise/api";
import type { Criterion, DepartmentRating, RatingInput } from "./api";

export interface DepartmentToRate {
  id: number;
  name: string;
  people: string[]; // who handled it (shown to remind, never sent)
}

/** Departments with an accepted invitation that have no rating yet, in invitation order. */
export function departmentsToRate(detail: Pick<CaseDetail, "invitations">, rated: Pick<DepartmentRating, "department">[]): DepartmentToRate[] {
  const done = new Set(rated.map((r) => r.department.id));
  const found = new Map<number, DepartmentToRate>();
  for (const invitation of detail.invitations) {
    if (invitation.state !== "accepted" || done.has(invitation.department.id)) continue;
    const entry = found.get(invitation.department.id) ?? { id: invitation.department.id, name: invitation.department.name, people: [] };
    entry.people.push(invitation.person.name);
    found.set(entry.id, entry);
  }
  return [...found.values()];
}

export type Sheet = Record<number, { scores: Record<string, number | null>; comment: string }>;

/** An empty sheet: every department, every criterion, no score yet. */
export function emptySheet(departments: DepartmentToRate[], criteria: Criterion[]): Sheet {
  const sheet: Sheet = {};
  for (const department of departments) {
    sheet[department.id] = { scores: Object.fromEntries(criteria.map((c) => [c.code, null])), comment: "" };
  }
  return sheet;
}

/** A whole number within the criterion's range (0–100 unless it says otherwise). */
export function validScore(value: unknown, criterion?: Pick<Criterion, "min" | "max">): value is number {
  const [min, max] = [criterion?.min ?? 0, criterion?.max ?? 100];
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** The missing scores as "department id:criterion code", or the request body when complete. */
export function toRatings(sheet: Sheet, criteria: Criterion[]): { missing: string[]; ratings: RatingInput[] } {
  const missing: string[] = [];
  const ratings: RatingInput[] = [];
  for (const [id, entry] of Object.entries(sheet)) {
    const scores: Record<string, number> = {};
    for (const criterion of criteria) {
      const value = entry.scores[criterion.code];
      if (validScore(value, criterion)) scores[criterion.code] = value;
      else missing.push(`${id}:${criterion.code}`);
    }
    ratings.push({ department: Number(id), scores, comment: entry.comment.trim() });
  }
  return { missing, ratings: missing.length ? [] : ratings };
}

/** The weighted mean the server will store (ratings/services.py weighted_overall), to show before sending. */
export function weightedOverall(scores: Record<string, number | null>, criteria: Criterion[]): number | null {
  let weight = 0;
  let total = 0;
  for (const criterion of criteria) {
    const value = scores[criterion.code];
    if (!validScore(value, criterion)) return null;
    const w = Number(criterion.weight ?? 1) || 1;
    weight += w;
    total += w * value;
  }
  return weight ? Math.round((total / weight) * 100) / 100 : null;
}
