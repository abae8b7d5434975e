import { expect, test } from "@playwright/test";
import { asUser, expectAccessible, info } from "./helpers";

const ROLES: [string, string, string[]][] = [
  ["village official", "cun001", ["待接收的邀请", "待评价案件", "发起案件"]],
  ["commander", "zhihui01", ["待审核案件", "超期案件（预警）"]],
  ["grid leader", "wangge01", ["超期案件（预警）"]],
  ["department staff", "s0001", ["待接收的邀请"]],
  ["department head", "juzhang01", ["本部门案件", "本部门评价（按月）"]],
  ["leader", "lingdao01", ["超期案件（预警）"]],
];

for (const [role, username, cells] of ROLES) {
  test.describe(role, () => {
  test.use({ storageState: asUser(username) });
  test(`the ${role}'s home screen shows what waits, live`, async ({ page }, testInfo) => {
    await page.goto("/");
    const home = page.getByTestId("home");
    await expect(home).toBeVisible();
    await expect(home).toContainText("您好");
    for (const cell of cells) await expect(home.getByText(cell, { exact: true })).toBeVisible();
    await expect(page.getByText("实时更新中")).toBeVisible(); // the /ws/notifications/ socket is open
    await expectAccessible(page);
    if (username === "cun001" && process.env.E2E_SCREENSHOT) {
      await page.screenshot({ path: process.env.E2E_SCREENSHOT });
    }
    void testInfo;
  });
  });
}

test.describe("commander", () => {
test.use({ storageState: asUser("zhihui01") });
test("the case list filters, and its case page shows the server's actions", async ({ page }) => {
  await page.goto("/cases?state=pending_review");
  const card = page.getByTestId(`case-${info().pending_review}`);
  await expect(card).toBeVisible();
  await expectAccessible(page);
  await card.click();
  await expect(page.getByTestId("case")).toContainText("浏览器测试：路灯不亮");
  const actions = page.getByTestId("actions");
  await expect(actions.locator("[data-action=send_back]")).toBeVisible();
  // exactly the actions the server lists for this person and case now, no more
  const detail = await (await page.request.get(`/api/v1/cases/${info().pending_review}/`)).json();
  const listed: string[] = (detail.available_actions ?? detail.allowed_transitions).map((a: string | { name: string }) => (typeof a === "string" ? a : a.name));
  const shown = await actions.locator("[data-action]").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
  expect(shown.sort()).toEqual([...listed].sort());
  await expectAccessible(page);
  // sending back needs a reason: the sheet says so before anything is sent
  await actions.locator("[data-action=send_back]").click();
  await page.getByTestId("action-confirm").click();
  await expect(page.getByTestId("action-sheet").getByRole("alert")).toContainText("请填写理由");
});
});

test.describe("staff", () => {
test.use({ storageState: asUser("s0001") });
test("notifications and me are accessible", async ({ page }) => {
  await page.goto("/notifications");
  await expect(page.getByRole("button", { name: "全部已读" })).toBeVisible();
  await expectAccessible(page);
  await page.goto("/me");
  await expect(page.getByTestId("me")).toContainText("部门人员");
  await expectAccessible(page);
});
});

test.describe("outsider", () => {
test.use({ storageState: asUser("cun001") });
test("an outsider typing another community's case address reads why not", async ({ page }) => {
  await page.goto(`/cases/${info().outside}`);
  const refused = page.getByTestId("case-refused");
  await expect(refused).toContainText("无法查看该案件");
  await expect(refused).toContainText("不在您的管辖范围内");
  await expect(page.getByTestId("case")).toHaveCount(0);
});
});
