import { createRouter, createWebHistory } from "vue-router";
import { currentUser } from "./auth/session";
import { figuresRoutes } from "./features/figures/routes";
import { intakeRoutes } from "./features/intake/routes";
import { mapRoutes } from "./features/map/routes";
import { outboxRoutes } from "./outbox";
import { raiseRoutes } from "./features/raise/routes";
import { rateRoutes } from "./features/rate/routes";
import { roomRoutes } from "./features/room/routes";
import { standingRoutes } from "./features/standing/routes";
import { wallRoutes } from "./features/wall/routes";
// The two screens a phone most often opens first (the 待办 home, and a case from a
// notification's link) come with the app's code: one round trip less (~0.3–0.5 s on
// slow 4G) for about 6 KB compressed. Every other screen is fetched when first opened.
import CaseView from "./views/CaseView.vue";
import HomeView from "./views/HomeView.vue";

declare module "vue-router" {
  interface RouteMeta {
    public?: boolean; // reachable without logging in
    tab?: boolean; // shows the bottom tab bar
  }
}

export const router = createRouter({
  history: createWebHistory("/"),
  routes: [
    { path: "/", name: "home", component: HomeView, meta: { tab: true } },
    { path: "/login", name: "login", component: () => import("./views/LoginView.vue"), meta: { public: true } },
    { path: "/cases", name: "cases", component: () => import("./views/CasesView.vue"), meta: { tab: true } },
    { path: "/cases/:id(\\d+)", name: "case", component: CaseView, props: true },
    // the case room, raising and rating: features/room, features/raise, features/rate
    ...raiseRoutes,
    ...rateRoutes,
    ...roomRoutes,
    ...standingRoutes,
    ...intakeRoutes,
    ...figuresRoutes,
    ...mapRoutes,
    ...wallRoutes,
    ...outboxRoutes,
    { path: "/notifications", name: "notifications", component: () => import("./views/NotificationsView.vue"), meta: { tab: true } },
    { path: "/me", name: "me", component: () => import("./views/MeView.vue"), meta: { tab: true } },
    { path: "/password", name: "password", component: () => import("./views/PasswordView.vue") },
    { path: "/:rest(.*)*", name: "not-found", component: () => import("./views/NotFoundView.vue"), meta: { public: true } },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  // Fetch the screen's code while the session is asked for, not after (one round trip
  // less on a slow network; the router's own import later gets the same module).
  for (const record of to.matched) {
    const view = record.components?.default;
    if (typeof view === "function") void (view as () => Promise<unknown>)()?.catch?.(() => undefined);
  }
  let user = null;
  try {
    user = await currentUser();
  } catch {
    return true; // server unreachable: the screen itself says so
  }
  if (!user) return { name: "login", query: to.fullPath === "/" ? {} : { next: to.fullPath } };
  if (user.password_expired && to.name !== "password") return { name: "password" };
  return true;
});
