import { createApp } from "vue";
import App from "./App.vue";
import { i18n } from "./i18n";
import { startOffline } from "./offline";
import { router } from "./router";

startOffline();
createApp(App).use(i18n).use(router).mount("#app");
