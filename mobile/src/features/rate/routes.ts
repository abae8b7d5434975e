import type { RouteRecordRaw } from "vue-router";

/** Rating the departments of a completed case (the caller). */
export const rateRoutes: RouteRecordRaw[] = [
  { path: "/cases/:id(\\d+)/rate", name: "case-rate", component: () => import("./RateView.vue") },
];
