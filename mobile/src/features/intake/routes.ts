import type { RouteRecordRaw } from "vue-router";

/** The commander's queue of deliveries from other systems waiting for review. */
export const intakeRoutes: RouteRecordRaw[] = [{ path: "/intake", name: "intake", component: () => import("./IntakeView.vue") }];
