/// <reference types="vitest/config" />
// The phone app's build. Django serves dist/ at the site root: index.html is the
// shell (never cached stale), dist/assets/ holds the content-hashed files (cached
// for a year). See core/app_shell.py.
import { VantResolver } from "@vant/auto-import-resolver";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

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
    rolldownOptions: {
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
