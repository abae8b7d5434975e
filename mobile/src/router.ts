import { createRouter, createWebHistory } from "vue-router";
import { raiseRoutes } from "./features/raise/routes";
import { rateRoutes } from "./features/rate/routes";
import { roomRoutes } from "./features/room/routes";

export const router = createRouter({
  history: createWebHistory("/"),
  routes: [
    { path: "/", name: "home", component: () => import("./views/HomeView.vue") },
    { path: "/login", name: "login", component: () => import("./views/LoginView.vue") },
    ...raiseRoutes,
    ...rateRoutes,
    ...roomRoutes,
  ],
});
