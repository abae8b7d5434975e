// The phone app in the field (issue 14): installed as a PWA it opens with no network
// after one visit, says so on screen, shows the person's last cases from the phone;
// logging out leaves nothing of the person behind; a new build replaces the old
// service worker on the next open. Real Chromium, Playwright's offline switch.
import { expect, test, type Page } from "@playwright/test";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { asUser, info, logIn } from "./helpers";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");

/** The service worker has installed (its precache complete) and controls the page. */
async function workerInCharge(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null;
  });
}

/** How many answers the phone keeps (IndexedDB "jinshao-offline"), without creating the base. */
function keptCount(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes("jinshao-offline")) return 0;
    return new Promise<number>((done, fail) => {
      const open = indexedDB.open("jinshao-offline");
      open.onerror = () => fail(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains("known")) return done(0);
        const count = db.transaction("known").objectStore("known").count();
        count.onsuccess = () => {
          db.close();
          done(count.result);
        };
      };
    });
  });
}

test.describe("with a session", () => {
  test.use({ storageState: asUser("cun001") });

  test("after one visit the app opens with no network, says so, and shows my last cases and case", async ({ page, context }) => {
    const id = info().pending_review;
    await page.goto(`/cases/${id}`);
    await expect(page.getByTestId("case")).toContainText("浏览器测试：路灯不亮");
    await page.goto("/cases");
    const first = page.getByRole("article").first();
    await expect(first).toBeVisible();
    const title = (await first.getAttribute("aria-label")) ?? "";
    await workerInCharge(page);
    await expect.poll(() => keptCount(page)).toBeGreaterThanOrEqual(3); // me/, the case, the list

    await context.setOffline(true);
    await page.reload(); // the shell and its files from the service worker
    await expect(page.getByTestId("offline-banner")).toContainText("网络未连接");
    await expect(page.getByTestId("stale")).toContainText("离线数据");
    await expect(page.getByTestId("stale")).toContainText("更新于");
    await expect(page.getByRole("article", { name: title })).toBeVisible();

    await page.goto(`/cases/${id}`); // a new open of an address, still with no network
    await expect(page.getByTestId("offline-banner")).toBeVisible();
    await expect(page.getByTestId("case")).toContainText("浏览器测试：路灯不亮");
    await expect(page.getByTestId("stale")).toBeVisible();

    await context.setOffline(false); // back in coverage: the banner goes, the case is read afresh
    await expect(page.getByTestId("offline-banner")).toBeHidden();
    await expect(page.getByTestId("stale")).toBeHidden();
    await expect(page.getByTestId("case")).toContainText("浏览器测试：路灯不亮");
  });
});

test("logging out leaves none of the person's data on the phone", async ({ page, context }) => {
  await logIn(page, "cun001"); // a session of its own: logging out ends only this one
  await expect(page.getByTestId("home")).toBeVisible();
  await page.goto("/cases");
  await expect(page.getByRole("article").first()).toBeVisible();
  await expect.poll(() => keptCount(page)).toBeGreaterThanOrEqual(2);
  await workerInCharge(page);

  await page.goto("/me");
  await page.getByTestId("logout").click();
  await page.getByRole("button", { name: "确定" }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await keptCount(page)).toBe(0);
  expect(await page.evaluate(() => localStorage.getItem("jinshao.offline.owner"))).toBeNull();

  await context.setOffline(true);
  await page.goto("/cases");
  await expect(page.getByTestId("offline-banner")).toBeVisible();
  await expect(page.getByRole("article")).toHaveCount(0);
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function answering(url: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer`);
}

/** Turn the build in `dir` into the next one, as `vite build` would after the shell
 *  changed: a marker in index.html and, in sw.js, that file's new precache revision. */
function nextBuild(dir: string, name: string): string {
  const shell = readFileSync(join(dir, "index.html"), "utf-8").replace("</head>", `<meta name="jinshao-build" content="${name}" /></head>`);
  writeFileSync(join(dir, "index.html"), shell);
  const revision = createHash("md5").update(shell).digest("hex");
  const worker = readFileSync(join(dir, "sw.js"), "utf-8");
  const next = worker.replace(/url:"index\.html",revision:"[0-9a-f]+"/, `url:"index.html",revision:"${revision}"`);
  expect(next).not.toEqual(worker);
  writeFileSync(join(dir, "sw.js"), next);
  return revision;
}

/** The revisions of the shell in the page's caches (Workbox keys: /index.html?__WB_REVISION__=…). */
function shellRevisions(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const found: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) {
        const url = new URL(request.url);
        if (url.pathname === "/index.html") found.push(url.searchParams.get("__WB_REVISION__") ?? "");
      }
    }
    return found;
  });
}

test("a new build replaces the old service worker on the next open, never mixed with the old", async ({ page, context }) => {
  // its own server on the same data, serving a copy of the build that the test then replaces
  const dir = mkdtempSync(join(tmpdir(), "jinshao-sw-build-"));
  cpSync(resolve(root, "mobile/dist"), dir, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(resolve(root, ".venv/bin/python"), [resolve(here, "serve.py"), "--build", dir, info().var], {
    cwd: root,
    env: { ...process.env, E2E_PORT: String(port) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await answering(`${base}/health/live`);
    await page.goto(`${base}/login`);
    await workerInCharge(page);
    const old = await shellRevisions(page);
    expect(old).toHaveLength(1);
    await expect(page.locator('meta[name="jinshao-build"]')).toHaveCount(0);

    const revision = nextBuild(dir, "B");
    await page.reload(); // the next open: the browser finds the new /sw.js, which takes over
    await expect(page.locator('meta[name="jinshao-build"]')).toHaveAttribute("content", "B");
    await expect.poll(() => shellRevisions(page)).toEqual([revision]); // the old shell is gone
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null)).toBeNull();

    await context.setOffline(true); // and it is the new shell that opens with no network
    await page.reload();
    await expect(page.locator('meta[name="jinshao-build"]')).toHaveAttribute("content", "B");
    await expect(page.getByRole("button", { name: "登录" })).toBeVisible();
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  }
});
