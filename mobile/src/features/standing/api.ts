// A department's rating figures by month (GET departments/{id}/ratings/?year=,
// departments/api/views.py; ratings/selectors.py department_year): readable by
// the department's own people and heads, leaders and auditors.
import { api } from "../../api/http";

export interface CriterionMean {
  code: string;
  name: string;
  mean: string | null; // a decimal string, null when withheld
}

export interface MonthFigures {
  month: number; // 1–12
  published: boolean; // the month has ended and its figures are fixed
  count: number; // ratings in the month (once published)
  withheld: boolean; // too few ratings (fewer than min_group) to show means
  overall: string | null;
  criteria: CriterionMean[];
}

export interface DepartmentYear {
  department: { id: number; name: string };
  year: number;
  min_group: number;
  count: number;
  withheld: boolean;
  overall: string | null;
  criteria: CriterionMean[];
  months: MonthFigures[];
}

export const departmentYear = (department: number, year: number) => api<DepartmentYear>(`departments/${department}/ratings/?year=${year}`);
