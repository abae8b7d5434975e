// What the log-in screen does with each refusal of POST auth/session/.
import { ApiError } from "../api/http";
import { t } from "../i18n";

export type LoginNext =
  | "retry" // show the message, let them type again
  | "otp" // show the second-factor field
  | "wait" // locked out or throttled: nothing to do but wait (or ask the administrator)
  | "back_office"; // the second factor must be set up in the back office first

export interface LoginRefusal {
  title: string; // a short Chinese heading
  message: string; // the server's own Chinese sentence (or ours when it gave none)
  next: LoginNext;
}

/** Map an error of the log-in request to what the screen shows and offers next. */
export function loginRefusal(error: unknown): LoginRefusal {
  if (!(error instanceof ApiError)) {
    return { title: t("auth.failed"), message: t("common.serverUnreachable"), next: "retry" };
  }
  const message = error.message;
  switch (error.code) {
    case "authentication_failed":
    case "no_active_account":
      return { title: t("auth.wrongPassword"), message: t("auth.wrongPasswordHint"), next: "retry" };
    case "locked_out":
      return { title: t("auth.lockedOut"), message, next: "wait" };
    case "throttled":
      return { title: t("auth.throttled"), message, next: "wait" };
    case "second_factor_required":
      return { title: t("auth.otpNeeded"), message: t("auth.otpHint"), next: "otp" };
    case "second_factor_setup_required":
      return { title: t("auth.otpSetup"), message, next: "back_office" };
    case "validation_error":
    case "invalid":
      return { title: t("auth.incomplete"), message, next: "retry" };
    case "network":
      return { title: t("auth.failed"), message, next: "retry" };
    default:
      return { title: t("auth.failed"), message, next: "retry" };
  }
}
