import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The storage state of `username`'s session, logged in by global-setup.ts. */
export function asUser(username: string): string {
  return resolve(here, ".auth", `${username}.json`);
}

export const PASSWORD = "Jinshao@2024";

export interface Info {
  baseURL: string;
  pending_review: number;
  outside: number;
  intake: number[]; // two deliveries waiting for zhihui01's review (e2e/serve.py)
  intake_community: string;
  var: string; // the server's directory (database, keys)
  room: number; // a case of cun001's in progress, its room open (s0001 on it)
  withdrawn: number; // another, for taking s0001 off it (e2e/outbox.spec.ts)
}

export function info(): Info {
  return JSON.parse(process.env.E2E_INFO ?? "{}");
}

export async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("账号").fill(username);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
}

/** No serious or critical axe-core violation on the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
  expect(bad, bad.join("\n")).toEqual([]);
}

/** Every console error and uncaught exception of the page (the test ends expecting none). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return errors;
}
