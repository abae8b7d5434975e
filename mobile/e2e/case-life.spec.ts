// One whole case life through the phone screens, three people at once, each
// in their own browser context (their own phone): the village official raises
// a case with a photo, the commander approves it, the department's staff
// member accepts, the caller and the staff member chat live both ways, the
// caller completes the case and rates the department, and the case is closed.
//
// Runs against the real server global-setup.ts starts on the seeded demo data
// (or JINSHAO_E2E_URL, e.g. a running bin/demo), with the demo's printed
// password (or JINSHAO_DEMO_PASSWORD). The demo district: 杨凯 (cun001) is the
// official of 华严村, 薛燕英 (zhihui01) commands its grid, 叶磊 (s0001) is on
// duty at 区城管执法局, which serves 华严村.
import { expect as baseExpect, test, type Browser, type Page } from "@playwright/test";
import { info, PASSWORD as DEMO_PASSWORD } from "./helpers";

// A shared CI machine is slow: every wait for the screen is allowed 20 s.
const expect = baseExpect.configure({ timeout: 20_000 });

const BASE = process.env.JINSHAO_E2E_URL ?? info().baseURL;
const PASSWORD = process.env.JINSHAO_DEMO_PASSWORD ?? DEMO_PASSWORD;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: "zh-CN" };

test.describe.configure({ mode: "serial" });
test.setTimeout(420_000); // three log-ins and a whole case on a shared machine

async function phoneOf(browser: Browser, username: string): Promise<Page> {
  const context = await browser.newContext({
    ...PHONE,
    baseURL: BASE,
    permissions: ["geolocation"],
    geolocation: { latitude: 30.9176, longitude: 121.4741 },
  });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("账号").fill(username);
  await page.getByLabel("密码").fill(PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page).not.toHaveURL(/\/login/, { timeout: 60_000 }); // password hashing on a busy machine
  return page;
}

/** A real JPEG, drawn by the browser, as a file to pick (4000×3000: the phone makes it smaller). */
async function cameraShot(page: Page): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  const base64 = await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 4000;
    canvas.height = 3000;
    const context = canvas.getContext("2d")!;
    context.fillStyle = "#6a8";
    context.fillRect(0, 0, 4000, 3000);
    context.fillStyle = "#c33";
    context.fillRect(1000, 800, 1200, 900);
    const blob: Blob = await new Promise((resolve) => canvas.toBlob((b) => resolve(b!), "image/jpeg", 0.8));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  });
  return { name: "IMG_0001.jpg", mimeType: "image/jpeg", buffer: Buffer.from(base64, "base64") };
}

async function takeAction(page: Page, caseId: number, action: string) {
  await page.goto(`/cases/${caseId}`);
  await page.locator(`[data-action="${action}"]`).first().click();
  const answered = page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/api/v1/"));
  await page.locator('[data-test="action-confirm"]').click();
  expect((await answered).ok()).toBe(true);
}

async function caseState(page: Page, caseId: number): Promise<{ state: string; answers: Record<string, unknown> }> {
  const response = await page.request.get(`/api/v1/cases/${caseId}/`);
  expect(response.ok()).toBe(true);
  return response.json();
}

test("a case from raising to rating, three phones at once", async ({ browser }) => {
  // Logged in one after another: three password hashes at once starve a small CI machine.
  const caller = await phoneOf(browser, "cun001");
  const commander = await phoneOf(browser, "zhihui01");
  const staff = await phoneOf(browser, "s0001");

  // ---- the village official raises a case from a template, with a photo and the location
  await caller.goto("/raise");
  await caller.getByPlaceholder("搜索模板名称或编号").fill("占道");
  await caller.getByRole("button", { name: /占道经营.*一键代入/ }).click();
  await expect(caller.getByLabel("标题")).toHaveValue("占道经营");
  await caller.locator('[data-field="stall_count"] input').fill("3");
  await caller.locator('[data-field="goods"]').getByText("果蔬", { exact: true }).click();
  const uploaded = caller.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/api/v1/"));
  await caller.locator('[data-field="site_photo"] .van-uploader input[type=file]').setInputFiles(await cameraShot(caller));
  await uploaded;
  await caller.getByText("获取当前位置").click();
  await expect(caller.getByText(/已定位/)).toBeVisible();
  await caller.getByLabel("地址").fill("华严村村委会门口");
  await caller.getByRole("button", { name: "添加部门" }).click();
  await caller.getByPlaceholder("添加部门").fill("城管");
  await caller.getByText("区城管执法局", { exact: true }).click();
  await caller.getByRole("checkbox", { name: /叶磊/ }).first().click();
  await caller.getByRole("button", { name: "提交审核" }).click();
  await expect(caller).toHaveURL(/\/cases\/\d+$/);
  const caseId = Number(/\/cases\/(\d+)$/.exec(caller.url())![1]);
  const raised = await caseState(caller, caseId);
  expect(raised.state).toBe("pending_review");
  expect(raised.answers).toMatchObject({ stall_count: 3, goods: "果蔬" });
  expect((raised.answers.site_photo as string[]).length).toBe(1);

  // ---- the commander approves, the staff member accepts
  await takeAction(commander, caseId, "approve");
  expect((await caseState(commander, caseId)).state).toBe("dispatched");
  await takeAction(staff, caseId, "accept");
  expect((await caseState(staff, caseId)).state).toBe("in_progress");

  // ---- the room, live both ways
  await Promise.all([caller.goto(`/cases/${caseId}/room`), staff.goto(`/cases/${caseId}/room`)]);
  await expect(caller.getByText(/已接单/).first()).toBeVisible(); // the system line of the acceptance
  await caller.getByPlaceholder("输入消息").fill("摊位在村委会门口，请尽快处理");
  await caller.getByRole("button", { name: "发送" }).click();
  await expect(staff.getByText("摊位在村委会门口，请尽快处理")).toBeVisible();
  await expect(caller.getByText("发送失败")).toHaveCount(0);
  await staff.getByPlaceholder("输入消息").fill("收到，十分钟后到现场");
  await staff.getByRole("button", { name: "发送" }).click();
  await expect(caller.getByText("收到，十分钟后到现场")).toBeVisible();
  // a photo from the staff member's album reaches the caller, drawn at its aspect ratio
  await staff.locator("input[type=file][multiple]").setInputFiles(await cameraShot(staff));
  const photo = caller.locator("button.photo img");
  await expect(photo).toBeVisible();
  const box = await caller.locator("button.photo").last().boundingBox();
  expect(Math.abs(box!.width / box!.height - 4 / 3)).toBeLessThan(0.05);

  // ---- the caller completes and rates; the case closes
  await takeAction(caller, caseId, "complete");
  expect((await caseState(caller, caseId)).state).toBe("pending_rating");
  await caller.goto(`/cases/${caseId}/rate`);
  await expect(caller.getByText("评价为匿名")).toBeVisible();
  await caller.getByRole("button", { name: "满意" }).first().click();
  await caller.getByRole("button", { name: "提交评价" }).click();
  await expect(caller).toHaveURL(new RegExp(`/cases/${caseId}$`));
  expect((await caseState(caller, caseId)).state).toBe("closed");
});
