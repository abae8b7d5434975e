// The case page's buttons: exactly the actions the server lists for this person and
// case now (`available_actions`, or the older `allowed_transitions`), each with the
// small form its input needs and the request that takes it.
import type { CaseDetail, Extension, Invitation, SupervisionOrder } from "../api/types";

/** What a button asks for before it sends. */
export type ActionInput =
  | "none" // a confirmation only
  | "note" // an optional note
  | "reason" // a required reason
  | "extension" // a reason and the deadline asked for
  | "supervise" // an instruction and a due time
  | "answer" // a required answer
  | "decision" // approve or refuse, a note (required when refusing)
  | "link"; // opens another screen

export interface ActionButton {
  key: string; // unique on the page (an action, or action:target)
  action: string; // the server's name
  label: string; // i18n key under actions.*
  input: ActionInput;
  danger?: boolean;
  primary?: boolean;
  /** The request: path under /api/v1/ and the body field the input goes to. */
  path?: string;
  field?: string;
  to?: string; // for "link"
  targetName?: string; // whom it is about (a person withdrawn, …)
}

/** The server's list of action names for the case. */
export function actionNames(c: Pick<CaseDetail, "available_actions" | "allowed_transitions">): string[] {
  const list = c.available_actions ?? c.allowed_transitions ?? [];
  return list.map((a) => (typeof a === "string" ? a : a.name));
}

export interface ActionContext {
  me: number; // my user id
  invitations: Invitation[];
  orders?: SupervisionOrder[];
  extensions?: Extension[];
}

const TRANSITIONS: Record<string, Pick<ActionButton, "input" | "field" | "danger" | "primary">> = {
  submit: { input: "note", field: "note", primary: true },
  approve: { input: "note", field: "note", primary: true },
  send_back: { input: "reason", field: "reason", danger: true },
  cancel: { input: "reason", field: "reason", danger: true },
  complete: { input: "note", field: "note", primary: true },
  reopen: { input: "reason", field: "reason" },
};

/** The buttons for `names` on case `id`, in the server's order; actions the app
 *  cannot take yet (or whose target is gone) give no button. */
export function actionButtons(id: number, names: string[], ctx: ActionContext): ActionButton[] {
  const buttons: ActionButton[] = [];
  for (const name of names) {
    const transition = TRANSITIONS[name];
    if (transition) {
      buttons.push({ key: name, action: name, label: `actions.${name}`, path: `cases/${id}/${name}/`, ...transition });
      continue;
    }
    switch (name) {
      case "accept": {
        const mine = ctx.invitations.find((i) => i.person.id === ctx.me && i.state === "pending");
        if (!mine) break;
        buttons.push({ key: "accept", action: "accept", label: "actions.accept", input: "note", field: "note", primary: true, path: `invitations/${mine.id}/accept/` });
        buttons.push({ key: "decline", action: "decline", label: "actions.decline", input: "reason", field: "reason", danger: true, path: `invitations/${mine.id}/decline/` });
        break;
      }
      case "decline": {
        const mine = ctx.invitations.find((i) => i.person.id === ctx.me && i.state === "pending");
        if (mine && !buttons.some((b) => b.key === "decline")) {
          buttons.push({ key: "decline", action: "decline", label: "actions.decline", input: "reason", field: "reason", danger: true, path: `invitations/${mine.id}/decline/` });
        }
        break;
      }
      case "return":
        buttons.push({ key: "return", action: "return", label: "actions.return", input: "reason", field: "reason", danger: true, path: `cases/${id}/return/` });
        break;
      case "ask_extension":
        buttons.push({ key: "ask_extension", action: "ask_extension", label: "actions.ask_extension", input: "extension", path: `cases/${id}/extensions/` });
        break;
      case "decide_extension": {
        const pending = (ctx.extensions ?? []).find((e) => e.state === "pending");
        if (pending) buttons.push({ key: "decide_extension", action: "decide_extension", label: "actions.decide_extension", input: "decision", path: `extensions/${pending.id}/` });
        break;
      }
      case "supervise":
        buttons.push({ key: "supervise", action: "supervise", label: "actions.supervise", input: "supervise", path: `cases/${id}/supervision-orders/` });
        break;
      case "answer_order": {
        const open = (ctx.orders ?? []).filter((o) => o.state === "open").sort((a, b) => a.id - b.id)[0];
        if (open) buttons.push({ key: "answer_order", action: "answer_order", label: "actions.answer_order", input: "answer", field: "answer", path: `supervision-orders/${open.id}/answer/` });
        break;
      }
      case "withdraw":
        for (const inv of ctx.invitations.filter((i) => i.state === "pending" || i.state === "accepted")) {
          buttons.push({ key: `withdraw:${inv.id}`, action: "withdraw", label: "actions.withdraw", input: "reason", field: "reason", danger: true, path: `invitations/${inv.id}/withdraw/`, targetName: inv.person.name });
        }
        break;
      case "rate":
        buttons.push({ key: "rate", action: "rate", label: "actions.rate", input: "link", to: `/cases/${id}/rate`, primary: true });
        break;
      case "edit_draft":
        buttons.push({ key: "edit_draft", action: "edit_draft", label: "actions.edit_draft", input: "link", to: `/raise?draft=${id}` });
        break;
      case "invite":
        buttons.push({ key: "invite", action: "invite", label: "actions.invite", input: "link", to: `/cases/${id}/invite` });
        break;
      case "redispatch":
        buttons.push({ key: "redispatch", action: "redispatch", label: "actions.redispatch", input: "link", to: `/cases/${id}/redispatch`, primary: true });
        break;
      default:
        break; // an action this app does not know yet
    }
  }
  return buttons;
}
