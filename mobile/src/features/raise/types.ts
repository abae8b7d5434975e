// Shapes the raise screens read, as the server answers them (templates/api/views.py,
// departments/api/views.py, cases/api/serializers.py).

export type FieldKind = "text" | "number" | "choice" | "date" | "photo";

export interface TemplateField {
  key: string;
  label: string;
  kind: FieldKind;
  kind_label: string;
  required: boolean;
  choices: string[];
  help_text: string;
}

export interface Brief {
  id: number;
  code: string;
  name: string;
}

export interface DepartmentBrief extends Brief {
  kind: string;
}

export interface CaseTemplate {
  id: number;
  code: string;
  name: string;
  category: Brief;
  description: string;
  default_priority: string;
  handling_limit_hours: number;
  response_limit_minutes: number;
  default_departments: DepartmentBrief[];
  fields: TemplateField[];
}

/** One person on duty in a department (GET staff/): `id` is the user to invite. */
export interface Staff {
  id: number;
  name: string;
  title: string;
  department: { id: number; name: string };
  phone: string;
  on_duty: boolean;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface Invitee {
  department: number;
  person: number;
}

/** What the form holds for each answer before cleaning: photo answers are reference lists. */
export type AnswerValue = string | number | string[] | null | undefined;
export type Answers = Record<string, AnswerValue>;
