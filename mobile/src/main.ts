import { createApp } from "vue";
import App from "./App.vue";
import { i18n } from "./i18n";
import { outbox } from "./outbox";
import { router } from "./router";

createApp(App).use(i18n).use(router).mount("#app");
// Writes queued on this phone (drafts sent, room messages, uploads) go on when the app opens.
void outbox.start();
