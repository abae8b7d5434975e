import type { RouteRecordRaw } from "vue-router";

/** The leaders' figures (charts; ECharts is in this route's chunk only). */
export const figuresRoutes: RouteRecordRaw[] = [{ path: "/figures", name: "figures", component: () => import("./FiguresView.vue") }];

/** Roles the analytics API answers (analytics/scope.py AREA_ROLES and READ_ALL_ROLES). */
export const FIGURES_ROLES = ["leader", "grid_leader", "commander", "auditor", "sysadmin"];
