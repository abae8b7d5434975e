// The app's one outbox (started by main.ts), and the 待发送 list's route.
import type { RouteRecordRaw } from "vue-router";
import { loadMe, me } from "../auth/session";
import { HANDLERS } from "./handlers";
import { Outbox } from "./outbox";
// In the main bundle, not a lazy chunk: the screen a person goes to when there
// is no network must not need the network to open.
import OutboxView from "./OutboxView.vue";

export const outbox = new Outbox(HANDLERS, () => me.value?.id ?? null, Date.now, loadMe);

export const outboxRoutes: RouteRecordRaw[] = [{ path: "/outbox", name: "outbox", component: OutboxView }];
