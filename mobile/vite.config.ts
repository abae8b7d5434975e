/// <reference types="vitest/config" />
// The phone app's build. Django serves dist/ at the site root: index.html is the
// shell (never cached stale), dist/assets/ holds the content-hashed files (cached
// for a year). See core/app_shell.py.
import { VantResolver } from "@vant/auto-import-resolver";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { fileURLToPath } from "node:url";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";
import { VitePWA } from "vite-plugin-pwa";

// Django sends these precompressed siblings (name.js.br / name.js.gz) to a phone that
// accepts them (core/app_shell.py): a phone on a slow link downloads ~40 % of the bytes,
// and no CPU is spent compressing per request. nginx does the same with gzip_static.
const COMPRESSIBLE = /\.(?:js|css|svg|json|webmanifest)$/;
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "jinshao-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const dir = join(outDir, "assets");
      for (const name of readdirSync(dir)) {
        if (!COMPRESSIBLE.test(name)) continue;
        const body = readFileSync(join(dir, name));
        writeFileSync(join(dir, `${name}.gz`), gzipSync(body, { level: 9 }));
        writeFileSync(
          join(dir, `${name}.br`),
          brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
        );
      }
    },
  };
}

// Vant's icon font names a copy on Alibaba's CDN after the inlined woff2; a phone
// must never ask a third party for anything (and the CSP, font-src 'self' data:,
// refuses it with a console error on every screen). Keep the inlined font only.
function vantIconFontInlineOnly(): Plugin {
  return {
    name: "jinshao-vant-icon-font-inline-only",
    enforce: "pre",
    transform(code, id) {
      if (!/[\\/]vant[\\/]es[\\/]icon[\\/]index\.css$/.test(id)) return null;
      const cleaned = code.replace(/,\s*url\((?:https?:)?\/\/at\.alicdn\.com[^)]*\)\s*format\("[^"]*"\)/g, "");
      if (cleaned.includes("alicdn")) throw new Error("vant's icon CSS changed: update vantIconFontInlineOnly");
      return { code: cleaned, map: null };
    },
  };
}

// Modules every screen needs travel as two files, not as the ~18 small chunks the
// default splitting makes (each one a request queued behind six HTTP/1.1 connections
// on a 150 ms round trip): Vue with its router and i18n, and the Vant components
// the app uses with their shared base. Charts (ECharts) stay in the screens that draw them.
const FRAMEWORK = /node_modules[\\/](?:@vue|vue|vue-router|vue-i18n|@intlify)[\\/]/;
const VANT = /node_modules[\\/](?:vant|@vant)[\\/]/;

// `npm run dev` proxies to a local server: `bin/demo` on :8000 unless JINSHAO_DEV_SERVER says where.
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const server = env.JINSHAO_DEV_SERVER ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [
    vue(),
    // Vant on demand: each <van-…> in a template imports that component and its CSS only.
    Components({ resolvers: [VantResolver()], dts: "src/components.d.ts" }),
    vantIconFontInlineOnly(),
    precompress(),
    // Installable, and opens with no network after one visit (issue 14): a Workbox
    // service worker (dist/sw.js, served at /sw.js by core/app_shell.py) precaches the
    // shell and every hashed file of this build, each with its revision, and answers
    // the app's navigations with the precached shell. It caches no API answer: a
    // person's last-known data lives in IndexedDB per user (src/offline/), cleared at
    // log-out and on 401/403. A new build: the new worker takes over at once
    // (skipWaiting + clientsClaim) and the page reloads itself once onto it
    // (src/offline/pwa.ts), so old code never runs against the new build's files.
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: false, // src/offline/pwa.ts registers it (not in tests or dev)
      filename: "sw.js",
      manifestFilename: "manifest.webmanifest",
      includeAssets: ["icons/apple-touch-icon-180.png"],
      manifest: {
        id: "/",
        name: "金哨",
        short_name: "金哨",
        description: "金哨：村（社区）吹哨、部门报到的案件办理手机端",
        lang: "zh-CN",
        dir: "ltr",
        start_url: "/",
        scope: "/",
        display: "standalone",
        orientation: "portrait",
        theme_color: "#c8102e",
        background_color: "#f5f6f8",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          { src: "/icons/maskable-192.png", sizes: "192x192", type: "image/png", purpose: "maskable" },
          { src: "/icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        // the shell, the hashed files and the icons; nothing person-specific
        globPatterns: ["index.html", "assets/**/*.{js,css,woff2,png,svg}"], // + the manifest's icons and includeAssets
        // echarts' chunk is large: let it be precached too (the leaders' charts offline)
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
        navigateFallback: "/index.html",
        // the server's own pages (back office, API, sockets, health…) are never the shell
        navigateFallbackDenylist: [/^\/(?:admin|api|ws|static|media|health|open311|assets|icons|metrics|favicon\.ico|sw\.js|manifest\.webmanifest)(?:\/|$)/],
        skipWaiting: true,
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        inlineWorkboxRuntime: true, // one file, /sw.js: nothing else to serve at the root
        runtimeCaching: [],
      },
      devOptions: { enabled: false },
    }),
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
    // dashboard's template finds through dist/.vite/manifest.json (core/templatetags/vite.py).
    rolldownOptions: {
      input: {
        index: fileURLToPath(new URL("./index.html", import.meta.url)),
        dashboard: fileURLToPath(new URL("./src/dashboard.ts", import.meta.url)),
      },
      output: {
        codeSplitting: {
          groups: [
            { name: "framework", test: FRAMEWORK, priority: 2 },
            { name: "vant", test: VANT, priority: 1 },
          ],
        },
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
