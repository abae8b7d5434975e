// Every string a person sees in the app comes from the messages under
// src/locales/ (Chinese first). One file per feature keeps them apart:
// src/locales/zh-CN/<feature>.ts exports a plain object, gathered here.
import { createI18n } from "vue-i18n";
import zhCN from "./locales/zh-CN";

export const i18n = createI18n({
  legacy: false,
  locale: "zh-CN",
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zhCN },
});

/** Translate outside components (stores, the API client). */
export const t = i18n.global.t;
