/// <reference types="vitest/config" />
// The phone app's build. Django serves dist/ at the site root: index.html is the
// shell (never cached stale), dist/assets/ holds the content-hashed files (cached
// for a year). See core/app_shell.py.
import { VantResolver } from "@vant/auto-import-resolver";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// `npm run dev` proxies to a local server: `bin/demo` on :8000 unless JINSHAO_DEV_SERVER says where.
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const server = env.JINSHAO_DEV_SERVER ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [
    vue(),
    // Vant on demand: each <van-…> in a template imports that component and its CSS only.
    Components({ resolvers: [VantResolver()], dts: "src/components.d.ts" }),
  ],
  base: "/",
  define: {
    // vue-i18n: Composition API only, no devtools hooks in the build.
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    manifest: true,
    sourcemap: false,
    target: "es2020",
    // Two entries: the app (index.html) and the back office's dashboard charts, which the
    // dashboard's template finds through dist/.vite/manifest.json (analytics/templatetags/vite.py).
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL("./index.html", import.meta.url)),
        dashboard: fileURLToPath(new URL("./src/dashboard.ts", import.meta.url)),
      },
    },
  },
  server: {
    // `npm run dev` against a local `bin/demo` on :8000
    proxy: {
      "/api": server,
      "/media": server,
      "/ws": { target: server.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
});
