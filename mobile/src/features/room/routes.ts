import type { RouteRecordRaw } from "vue-router";

/** The case room (chat), live over /ws/cases/{id}/. */
export const roomRoutes: RouteRecordRaw[] = [
  { path: "/cases/:id(\\d+)/room", name: "case-room", component: () => import("./RoomView.vue") },
];
