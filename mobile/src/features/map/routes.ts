import type { RouteRecordRaw } from "vue-router";

/** The map of hot places (issue 17): leaders, grid leaders and commanders, their own area. */
export const mapRoutes: RouteRecordRaw[] = [{ path: "/figures/map", name: "figures-map", component: () => import("./MapView.vue") }];
