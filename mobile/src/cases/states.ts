// How a case's state and deadline are shown.
import { t } from "../i18n";

export type TagType = "primary" | "success" | "warning" | "danger" | "default";

const STATE_TAGS: Record<string, TagType> = {
  draft: "default",
  pending_review: "warning",
  dispatched: "primary",
  in_progress: "primary",
  pending_rating: "success",
  closed: "default",
  cancelled: "default",
};

/** The tag colour of a state (unknown states are plain). */
export function stateTag(state: string): TagType {
  return STATE_TAGS[state] ?? "default";
}

/** The states the case list filters by, in the order of a case's life. */
export const STATES = ["draft", "pending_review", "dispatched", "in_progress", "pending_rating", "closed", "cancelled"];

/** "2 天后到期" / "已超期 3 小时" / "" (no deadline), relative to `now`. */
export function deadlineText(deadline: string | null, now: Date = new Date()): string {
  if (!deadline) return "";
  const ms = new Date(deadline).getTime() - now.getTime();
  const hours = Math.round(Math.abs(ms) / 3_600_000);
  const amount = hours >= 48 ? t("cases.days", { n: Math.round(hours / 24) }) : t("cases.hours", { n: Math.max(hours, 1) });
  return ms < 0 ? t("cases.overdueBy", { amount }) : t("cases.dueIn", { amount });
}

/** A date-time as people here write it: 2026-11-30 15:04 (local time). */
export function formatTime(value: string | null | undefined): string {
  if (!value) return "";
  const d = new Date(value);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A template answer as text: lists joined, booleans 是/否, empty as —. */
export function answerText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map(answerText).join("、");
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  if (typeof value === "object") {
    const v = value as Record<string, unknown>;
    return String(v.label ?? v.name ?? v.address ?? JSON.stringify(value));
  }
  return String(value);
}
