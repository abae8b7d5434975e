import { expect, test } from "@playwright/test";
import { expectAccessible, logIn } from "./helpers";

test("the log-in screen is accessible", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "登录金哨" })).toBeVisible();
  await expectAccessible(page);
});

test("a wrong password is told plainly", async ({ page }) => {
  await logIn(page, "cun001", "wrong-Password-1");
  const refusal = page.getByTestId("login-refusal");
  await expect(refusal).toContainText("账号或密码不正确");
  await expect(refusal).toContainText("5 次");
  await expectAccessible(page);
});

test("the fifth failure locks the account, and says for how long", async ({ page }) => {
  for (let i = 0; i < 5; i++) {
    await logIn(page, "s0002", "wrong-Password-1");
    await expect(page.getByTestId("login-refusal")).toBeVisible();
  }
  await logIn(page, "s0002");
  const refusal = page.getByTestId("login-refusal");
  await expect(refusal).toContainText("账号已被暂时锁定");
  await expect(refusal).toContainText("30");
});

test("empty fields are asked for before anything is sent", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByText("请填写账号")).toBeVisible();
});

test("logging out ends the session", async ({ page }) => {
  await logIn(page, "cun001");
  await expect(page.getByTestId("home")).toBeVisible();
  await page.goto("/me");
  await page.getByTestId("logout").click();
  await page.getByRole("button", { name: "确定" }).click();
  await expect(page).toHaveURL(/\/login$/);
  const me = await page.request.get("/api/v1/me/");
  expect([401, 403]).toContain(me.status());
  await page.goto("/cases");
  await expect(page).toHaveURL(/\/login\?next=/);
});
