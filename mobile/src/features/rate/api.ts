// Rating the departments of a completed case (POST cases/{id}/ratings/,
// ratings/services.py rate_department) on the administrator's criteria.
import { api } from "../../api/http";
import { fetchAll, getCase, type CaseDetail } from "../raise/api";

/**
 * A rating criterion as `GET /api/v1/rating-criteria/` lists it (ratings/api/views.py):
 * active ones in the administrators' order, not paginated. `code` is the key
 * of `scores`; each score a whole number from `min` to `max`; the overall is
 * their mean weighted by `weight` (a decimal string).
 */
export interface Criterion {
  code: string;
  label: string;
  order?: number;
  weight?: string | number;
  min?: number;
  max?: number;
}

export interface DepartmentRating {
  department: { id: number; code: string; name: string };
  overall: string;
  scores: Record<string, number>;
  comment: string;
  created_at: string;
}

export const listCriteria = () => fetchAll<Criterion>("rating-criteria/");
export const ratingsOf = (caseId: number) => api<DepartmentRating[]>(`cases/${caseId}/ratings/`);
export { getCase };
export type { CaseDetail };

export interface RatingInput {
  department: number;
  scores: Record<string, number>; // criterion code → whole number 0–100
  comment: string;
}

export const postRatings = (caseId: number, ratings: RatingInput[]) =>
  api<CaseDetail>(`cases/${caseId}/ratings/`, { method: "POST", body: { ratings } });
