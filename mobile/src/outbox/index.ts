// The app's one outbox (started by main.ts), and the 待发送 list's route.
import type { RouteRecordRaw } from "vue-router";
import { HANDLERS } from "./handlers";
import { Outbox } from "./outbox";

export const outbox = new Outbox(HANDLERS);

export const outboxRoutes: RouteRecordRaw[] = [
  { path: "/outbox", name: "outbox", component: () => import("./OutboxView.vue") },
];
