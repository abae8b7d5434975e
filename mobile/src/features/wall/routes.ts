import type { RouteRecordRaw } from "vue-router";

/** The operations-centre wall (issue 17): full screen, live; `?area=` or the asker's own area. */
export const wallRoutes: RouteRecordRaw[] = [{ path: "/wall", name: "wall", component: () => import("./WallView.vue") }];
