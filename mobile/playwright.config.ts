// Browser tests: Debian's Chromium at a phone's size against a real server on the
// demo district (e2e/serve.py, started by e2e/global-setup.ts). `npm run e2e`.
import { defineConfig, devices } from "@playwright/test";

// One port for the run, chosen by the main process (workers inherit the environment).
process.env.E2E_PORT ??= String(20000 + (process.pid % 20000));

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/global-setup.ts",
  // A password check costs seconds on a busy machine: generous waits, never sleeps.
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  use: {
    ...devices["iPhone 13"],
    browserName: "chromium",
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    baseURL: `http://127.0.0.1:${process.env.E2E_PORT}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    testIdAttribute: "data-test",
    trace: "off",
    screenshot: "only-on-failure",
  },
});
