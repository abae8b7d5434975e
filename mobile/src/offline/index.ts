// The app in the field (issue 14): the service worker, the network banner's
// watchers, and forgetting the person's data on the phone when the session ends.
import { loadMe, me } from "../auth/session";
import { forgetAll } from "./lastKnown";
import { onBackOnline, onSessionLost, watchNetwork } from "./network";
import { startServiceWorker } from "./pwa";

export function startOffline(): void {
  watchNetwork();
  onSessionLost(() => void forgetAll());
  // the server answers again: the counts (tab badges, home) catch up at once
  onBackOnline(() => {
    if (me.value) loadMe().catch(() => undefined);
  });
  startServiceWorker();
}
