// Shapes the API answers (see /api/schema/). Only the fields the app reads.

export interface Brief {
  id: number;
  name: string;
}

export interface RoleAssignment {
  role: string;
  role_label: string;
  area: { id: number; name: string; level: string } | null;
  department: { id: number; name: string } | null;
}

export interface Waiting {
  to_review: number;
  invitations: number;
  to_rate: number;
  notifications: number;
  messages: number;
}

export interface Me {
  id: number;
  username: string;
  name: string;
  password_expired: boolean;
  roles: RoleAssignment[];
  waiting: Waiting;
  unread_rooms: { case: number; number: string; unread: number }[];
}

export interface CaseSummary {
  id: number;
  number: string;
  title: string;
  state: string;
  state_label: string;
  priority: string | null;
  source: string;
  community: { id: number; name: string } | null;
  category: { id: number; name: string } | null;
  address: string;
  created_at: string;
  deadline: string | null;
  is_overdue: boolean;
  unread_messages: number;
}

export interface Invitation {
  id: number;
  case: number;
  department: { id: number; name: string };
  person: Brief;
  phone: string;
  state: string;
  state_label: string;
  reason: string;
  invited_at: string;
  responded_at: string | null;
}

export interface CaseDetail extends CaseSummary {
  description: string;
  template: number | null;
  answers: Record<string, unknown>;
  caller: Brief | null;
  invitations: Invitation[];
  participants: Brief[];
  allowed_transitions: string[];
  available_actions?: (string | { name: string })[];
  response_deadline: string | null;
}

export interface CaseEvent {
  id: number;
  kind: string;
  kind_label: string;
  actor: Brief | null;
  note: string;
  created_at: string;
}

export interface TemplateField {
  key: string;
  label: string;
  kind: string;
  choices: unknown;
}

export interface SupervisionOrder {
  id: number;
  instruction: string;
  due_at: string;
  state: string;
  answer: string;
  issued_by: Brief | null;
}

export interface Extension {
  id: number;
  reason: string;
  requested_deadline: string;
  state: string;
  requested_by: Brief | null;
}

export interface Notification {
  id: number;
  kind: string;
  kind_label: string;
  message: string;
  case: { id: number; number: string; title: string; state: string } | null;
  created_at: string;
  is_read: boolean;
}

/** A cursor page (core.api.pagination): follow `next` for more. */
export interface Page<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The `cursor` query value of a page's `next` URL, or null at the end. */
export function nextCursor(next: string | null): string | null {
  if (!next) return null;
  return new URL(next, "http://x").searchParams.get("cursor");
}
