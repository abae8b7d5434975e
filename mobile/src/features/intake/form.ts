// Checks before a review entry is sent on: what is missing, in the form's words.
export interface ResolveForm {
  template: number | null;
  community: number | null;
}

/** Keys under intake.* for each missing choice; empty when the form may be sent. */
export function resolveProblems(form: ResolveForm): Partial<Record<keyof ResolveForm, string>> {
  const problems: Partial<Record<keyof ResolveForm, string>> = {};
  if (!form.template) problems.template = "intake.chooseTemplate";
  if (!form.community) problems.community = "intake.chooseCommunity";
  return problems;
}

/** The reason to dismiss, trimmed, or null when there is none or it is too long (2000). */
export function dismissReason(text: string): string | null {
  const reason = text.trim();
  return reason && reason.length <= 2000 ? reason : null;
}
