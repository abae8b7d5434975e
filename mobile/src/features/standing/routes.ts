import type { RouteRecordRaw } from "vue-router";

/** A department's rating figures by month, for its head and people. */
export const standingRoutes: RouteRecordRaw[] = [
  { path: "/departments/:id(\\d+)/ratings", name: "department-ratings", component: () => import("./DepartmentRatingsView.vue") },
];
