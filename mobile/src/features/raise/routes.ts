import type { RouteRecordRaw } from "vue-router";

/** Raising a case, editing a draft, inviting more people, dispatching again. */
export const raiseRoutes: RouteRecordRaw[] = [
  { path: "/raise/:draftId(\\d+)?", name: "raise", component: () => import("./RaiseView.vue") },
  { path: "/cases/:id(\\d+)/invite", name: "case-invite", component: () => import("./InviteView.vue") },
  { path: "/cases/:id(\\d+)/redispatch", name: "case-redispatch", component: () => import("./InviteView.vue") },
];
