// The template form's answers checked as the server checks them
// (templates/services.py validate_answers), so the phone says what is missing
// before it sends anything. The server stays the judge: its field errors are
// shown the same way when it refuses.
import { t } from "../../i18n";
import type { AnswerValue, Answers, TemplateField } from "./types";

export const MAX_TEXT_LENGTH = 2000;
export const MAX_PHOTOS = 9;

export function isEmpty(value: AnswerValue): boolean {
  return (
    value === null ||
    value === undefined ||
    (typeof value === "string" && value.trim() === "") ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** The cleaned value of one answer, or an error message (thrown as a string). */
function clean(field: TemplateField, value: AnswerValue): AnswerValue {
  switch (field.kind) {
    case "text": {
      if (typeof value !== "string") throw t("raise.field.enterText");
      const text = value.trim();
      if (text.length > MAX_TEXT_LENGTH) throw t("raise.field.tooLong", { n: MAX_TEXT_LENGTH });
      return text;
    }
    case "number": {
      const number = typeof value === "string" ? parseDecimal(value) : value;
      if (typeof number !== "number" || !Number.isFinite(number)) throw t("raise.field.enterNumber");
      return number;
    }
    case "choice":
      if (typeof value !== "string" || !field.choices.includes(value))
        throw t("raise.field.chooseOne", { choices: field.choices.join("、") });
      return value;
    case "date": {
      const text = String(value).trim();
      if (!isIsoDate(text)) throw t("raise.field.enterDate");
      return text;
    }
    case "photo": {
      const photos = typeof value === "string" ? [value] : value;
      if (!Array.isArray(photos) || !photos.every((p) => typeof p === "string" && p.trim()))
        throw t("raise.field.photoReference");
      if (photos.length > MAX_PHOTOS) throw t("raise.field.tooManyPhotos", { n: MAX_PHOTOS });
      return photos.map((p) => p.trim());
    }
  }
}

/** A decimal as people type it ("12", "-3.5", "1e3"); NaN for anything else ("0x10", "1,5"). */
export function parseDecimal(text: string): number {
  const trimmed = text.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
}

/** YYYY-MM-DD naming a real day (as Python's date.fromisoformat reads it). */
export function isIsoDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export interface Checked {
  answers: Answers; // cleaned, only the answered fields (as the server stores them)
  errors: Record<string, string>; // field key → message, in the server's wording
}

/**
 * Check every answer against the template's fields, reporting every problem
 * at once keyed by field key: required answers missing (unless
 * `requireAll` is false, as the server allows for intake), wrong types,
 * unknown choices, dates that are no day, more than nine photos, answers
 * to fields the form does not have.
 */
export function checkAnswers(fields: TemplateField[], answers: Answers, requireAll = true): Checked {
  const known = new Set(fields.map((f) => f.key));
  const errors: Record<string, string> = {};
  for (const key of Object.keys(answers)) {
    if (!known.has(key)) errors[key] = t("raise.field.unknown");
  }
  const cleaned: Answers = {};
  for (const field of fields) {
    const value = answers[field.key];
    if (isEmpty(value)) {
      if (field.required && requireAll) errors[field.key] = t("raise.field.required", { label: field.label });
      continue;
    }
    try {
      cleaned[field.key] = clean(field, value);
    } catch (message) {
      errors[field.key] = `${field.label}：${String(message)}`;
    }
  }
  return { answers: cleaned, errors };
}
