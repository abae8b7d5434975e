import { createApp } from "vue";
import App from "./App.vue";
import { currentUser } from "./auth/session";
import { i18n } from "./i18n";
import { startOffline } from "./offline";
import { outbox } from "./outbox";
import { router } from "./router";

startOffline();
// Take the answer index.html preloads (`me/`) now, on every screen: left unclaimed on
// the log-in screen, it would answer a later `me/` with the state before logging in.
void currentUser().catch(() => undefined);

createApp(App).use(i18n).use(router).mount("#app");
// Writes queued on this phone (drafts sent, room messages, uploads) go on when the app opens.
void outbox.start();
