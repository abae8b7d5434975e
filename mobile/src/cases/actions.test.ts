import { describe, expect, it } from "vitest";
import type { Invitation } from "../api/types";
import { actionButtons, actionNames } from "./actions";

const invitation = (id: number, person: number, state = "pending"): Invitation => ({
  id,
  case: 7,
  department: { id: 1, name: "城管中队" },
  person: { id: person, name: `人员${person}` },
  phone: "",
  state,
  state_label: state,
  reason: "",
  invited_at: "2026-11-30T08:00:00Z",
  responded_at: null,
});

describe("actionNames", () => {
  it("reads available_actions first, in strings or objects", () => {
    expect(actionNames({ available_actions: ["approve", { name: "send_back" }], allowed_transitions: ["x"] })).toEqual(["approve", "send_back"]);
  });
  it("falls back to the older allowed_transitions", () => {
    expect(actionNames({ allowed_transitions: ["submit"] })).toEqual(["submit"]);
  });
});

describe("actionButtons", () => {
  it("gives exactly one button per listed transition, with its input", () => {
    const buttons = actionButtons(7, ["approve", "send_back"], { me: 1, invitations: [] });
    expect(buttons.map((b) => [b.action, b.input, b.path])).toEqual([
      ["approve", "note", "cases/7/approve/"],
      ["send_back", "reason", "cases/7/send_back/"],
    ]);
  });
  it("gives nothing the server did not list", () => {
    expect(actionButtons(7, [], { me: 1, invitations: [invitation(3, 1)] })).toEqual([]);
  });
  it("turns accept into accept and decline of my own pending invitation", () => {
    const buttons = actionButtons(7, ["accept"], { me: 2, invitations: [invitation(3, 1), invitation(4, 2)] });
    expect(buttons.map((b) => [b.action, b.input, b.path])).toEqual([
      ["accept", "note", "invitations/4/accept/"],
      ["decline", "reason", "invitations/4/decline/"],
    ]);
  });
  it("drops accept when I have no pending invitation", () => {
    expect(actionButtons(7, ["accept"], { me: 9, invitations: [invitation(3, 1)] })).toEqual([]);
  });
  it("asks for a reason to return, a date to extend or supervise", () => {
    const buttons = actionButtons(7, ["return", "ask_extension", "supervise"], { me: 1, invitations: [] });
    expect(buttons.map((b) => b.input)).toEqual(["reason", "extension", "supervise"]);
    expect(buttons[1].path).toBe("cases/7/extensions/");
  });
  it("answers the oldest open supervision order and decides the pending extension", () => {
    const buttons = actionButtons(7, ["answer_order", "decide_extension"], {
      me: 1,
      invitations: [],
      orders: [
        { id: 9, instruction: "", due_at: "", state: "open", answer: "", issued_by: null },
        { id: 5, instruction: "", due_at: "", state: "open", answer: "", issued_by: null },
        { id: 2, instruction: "", due_at: "", state: "answered", answer: "好", issued_by: null },
      ],
      extensions: [{ id: 11, reason: "", requested_deadline: "", state: "pending", requested_by: null }],
    });
    expect(buttons.map((b) => b.path)).toEqual(["supervision-orders/5/answer/", "extensions/11/"]);
  });
  it("offers to withdraw each person still on the case, by name", () => {
    const buttons = actionButtons(7, ["withdraw"], { me: 1, invitations: [invitation(3, 5, "accepted"), invitation(4, 6, "declined")] });
    expect(buttons.map((b) => [b.key, b.targetName])).toEqual([["withdraw:3", "人员5"]]);
  });
  it("sends rating to its own screen", () => {
    expect(actionButtons(7, ["rate"], { me: 1, invitations: [] })[0]).toMatchObject({ input: "link", to: "/cases/7/rate" });
  });
  it("sends invite and redispatch to the people picker's screens", () => {
    const buttons = actionButtons(7, ["invite", "redispatch"], { me: 1, invitations: [] });
    expect(buttons.map((b) => [b.action, b.input, b.to])).toEqual([
      ["invite", "link", "/cases/7/invite"],
      ["redispatch", "link", "/cases/7/redispatch"],
    ]);
  });
});
