// Rating the departments of a completed case (POST cases/{id}/ratings/,
// ratings/services.py rate_department) on the administrator's criteria.
import { api } from "../../api/http";
import { fetchAll, getCase, type CaseDetail } from "../raise/api";

/**
 * A rating criterion as the criteria endpoint lists it (h3, issue 13):
 * `GET /api/v1/rating-criteria/` → `[{"id", "code", "name", "weight"}]`
 * (a plain list or a picker page), active ones in the administrators' order.
 */
export interface Criterion {
  id: number;
  code: string;
  name: string;
  weight?: string | number;
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
