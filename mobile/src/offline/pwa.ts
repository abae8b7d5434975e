// The service worker (vite.config.ts, VitePWA): registered once the app has
// started, in a real build only. A new build's worker takes over at once
// (skipWaiting + clientsClaim) and this page then reloads itself once onto the
// new build — the default of vite-plugin-pwa's "autoUpdate" — so a page of the
// old build never asks for files the new precache no longer holds. Why not a
// "new version, reload?" prompt: a phone opens the app fresh most times, the
// prompt would keep old code for a whole session, and drafts are on the phone
// (IndexedDB), so the one reload loses nothing typed.
import { registerSW } from "virtual:pwa-register";

export function startServiceWorker(): void {
  if (!import.meta.env.PROD || !("serviceWorker" in navigator)) return;
  registerSW({ immediate: true });
}
