// Starts e2e/serve.py (a seeded demo server) once for the run; the returned function
// stops it and removes its temporary directory.
import { request } from "@playwright/test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const USERS = ["cun001", "zhihui01", "wangge01", "s0001", "juzhang01", "lingdao01"];
const PASSWORD = "Jinshao@2024";

async function waitFor(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const answer = await fetch(url);
      if (answer.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the e2e server did not answer ${url} in time`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(resolve(root, "mobile/dist/index.html"))) throw new Error("mobile/dist is missing: run `npm run build` (bin/setup does)");
  const server = spawn(resolve(root, ".venv/bin/python"), [resolve(here, "serve.py")], {
    cwd: root,
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const info = await new Promise<Record<string, unknown>>((resolveInfo, reject) => {
    const timer = setTimeout(() => reject(new Error("e2e/serve.py gave no E2E line in 15 minutes")), 900_000);
    server.on("exit", (code) => reject(new Error(`e2e/serve.py stopped (${code})`)));
    createInterface({ input: server.stdout! }).on("line", (line) => {
      if (line.startsWith("E2E ")) {
        clearTimeout(timer);
        resolveInfo(JSON.parse(line.slice(4)));
      }
    });
  });
  process.env.E2E_INFO = JSON.stringify(info);
  await waitFor(`${info.baseURL}/health/live`, Date.now() + 60_000);
  // One session per role, logged in once (a password check costs a second or more):
  // the tests start from these cookies (helpers.asUser).
  mkdirSync(resolve(here, ".auth"), { recursive: true });
  for (const username of USERS) {
    const context = await request.newContext({ baseURL: String(info.baseURL) });
    await context.get("/api/v1/auth/session/");
    const csrf = (await context.storageState()).cookies.find((c) => c.name === "csrftoken")?.value ?? "";
    const answer = await context.post("/api/v1/auth/session/", {
      data: { username, password: PASSWORD },
      headers: { "X-CSRFToken": csrf, Referer: String(info.baseURL) },
      timeout: 120_000,
    });
    if (!answer.ok()) throw new Error(`log-in of ${username}: ${answer.status()} ${await answer.text()}`);
    await context.storageState({ path: resolve(here, ".auth", `${username}.json`) });
    await context.dispose();
  }
  return async () => {
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
    rmSync(String(info.var), { recursive: true, force: true });
  };
}
