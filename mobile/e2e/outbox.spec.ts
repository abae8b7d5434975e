// The phone in the field (issue 14): nothing typed, photographed or recorded is
// lost or sent twice. Real Chromium at a phone's size against the real server
// (global-setup.ts), with the network switched off and on (Playwright's offline
// mode) and answers cut by route interception.
//
// The case raised offline is reloaded with the network off (the service worker
// opens the app); the draft's reload cuts only the server's /api/ and /ws/ at the
// route: the app loads, the server cannot be reached, exactly what the outbox
// sees in a basement with one bar of signal.
import { expect as baseExpect, test, type Page, type APIRequestContext } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { asUser, info } from "./helpers";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const expect = baseExpect.configure({ timeout: 30_000 });
test.use({ storageState: asUser("cun001") });
test.setTimeout(240_000);

/** A real JPEG drawn by the browser (4000×3000: the phone makes it smaller). */
async function cameraShot(page: Page, name: string, colour: string) {
  const base64 = await page.evaluate(async (fill) => {
    const canvas = document.createElement("canvas");
    canvas.width = 4000;
    canvas.height = 3000;
    const context = canvas.getContext("2d")!;
    context.fillStyle = fill;
    context.fillRect(0, 0, 4000, 3000);
    context.fillStyle = "#333";
    context.fillRect(900, 700, 1500, 1100);
    const blob: Blob = await new Promise((resolve) => canvas.toBlob((b) => resolve(b!), "image/jpeg", 0.8));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  }, colour);
  return { name, mimeType: "image/jpeg", buffer: Buffer.from(base64, "base64") };
}

/** A 1.5 s mono 8 kHz WAV tone, as the recorder makes (features/room/wav.ts). */
function voiceNote() {
  const rate = 8000;
  const samples = Math.round(rate * 1.5);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8);
  header.write("fmt ", 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(data.length, 40);
  return { name: "语音.wav", mimeType: "audio/wav", buffer: Buffer.concat([header, data]) };
}

/** The titles of the drafts kept on the phone (read from IndexedDB as the page sees it). */
async function storedTitles(): Promise<string[]> {
  const open = indexedDB.open("jinshao-phone");
  const db: IDBDatabase = await new Promise((resolve, reject) => {
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  try {
    if (!db.objectStoreNames.contains("drafts")) return [];
    return await new Promise((resolve) => {
      const query = db.transaction("drafts").objectStore("drafts").getAll();
      query.onsuccess = () => resolve((query.result as { title: string }[]).map((d) => d.title));
      query.onerror = () => resolve([]);
    });
  } finally {
    db.close();
  }
}

/** What the server says to someone taken off a case who writes in its room: the case is no
 *  longer theirs to see (404, the server's own Chinese message). */
const REFUSAL = "您已不再参与该案件（已被撤回、已拒绝或已退回），不能再查看或在其群聊中发言。";

/** Cut every request to the server (the page itself still loads). */
async function cutServer(page: Page) {
  await page.route(/\/(api|ws)\//, (route) => route.abort("internetdisconnected"));
}
async function restoreServer(page: Page) {
  await page.unroute(/\/(api|ws)\//);
  // the browser's own "online" event, as when a phone walks back into coverage
  await page.context().setOffline(true);
  await page.context().setOffline(false);
}

async function casesTitled(request: APIRequestContext, title: string) {
  const answer = await request.get("/api/v1/cases/", { params: { q: title } });
  expect(answer.ok()).toBe(true);
  const body = await answer.json();
  return (body.results ?? body).filter((c: { title: string }) => c.title === title) as { id: number; title: string }[];
}

async function roomMessages(request: APIRequestContext, caseId: number) {
  const answer = await request.get(`/api/v1/cases/${caseId}/messages/`, { params: { after: 0, limit: 200 } });
  expect(answer.ok(), await answer.text()).toBe(true);
  return (await answer.json()).messages as { id: number; kind: string; text: string; client_id: string }[];
}

/** A case of cun001's whose room is open (serve.py makes it). */
async function openRoom(): Promise<number> {
  return info().room;
}

test("a case raised with no network, two photos and a voice note, survives a reload and arrives once, whole", async ({ page }) => {
  const title = `离线上报 ${Date.now()}`;
  await page.goto("/raise");
  await page.getByPlaceholder("搜索模板名称或编号").fill("占道");
  await page.getByRole("button", { name: /占道经营.*一键代入/ }).click();
  await page.getByLabel("标题").fill(title);
  await page.locator('[data-field="stall_count"] input').fill("2");
  await page.locator('[data-field="goods"]').getByText("熟食", { exact: true }).click();
  await page.getByRole("button", { name: "添加部门" }).click();
  await page.getByPlaceholder("添加部门").fill("城管");
  await page.getByText("区城管执法局", { exact: true }).click();
  await page.getByRole("checkbox", { name: /叶磊/ }).first().click();

  // ---- the signal goes: photos and a voice note are taken with none
  const shots = [await cameraShot(page, "IMG_0001.jpg", "#6a8"), await cameraShot(page, "IMG_0002.jpg", "#a86")];
  // the app was opened once with signal: its service worker holds the app for later
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.context().setOffline(true);
  await page.locator('[data-field="site_photo"] .van-uploader input[type=file]').setInputFiles(shots);
  await expect(page.locator('[data-field="site_photo"] .van-uploader__preview')).toHaveCount(2);
  await page.getByLabel("选择录音文件").setInputFiles(voiceNote());
  await expect(page.locator('[data-test="voice-note"]')).toHaveCount(1);
  await page.getByLabel("地址").fill("华严村桥头");
  await page.getByRole("button", { name: "提交审核" }).click();
  await expect(page).toHaveURL(/\/outbox$/);
  const item = page.locator('[data-test="outbox-item"][data-kind="case"]');
  await expect(item).toContainText(title);
  await expect(item).toContainText("2 张照片 · 1 条语音 · 1 人");
  await expect(item.locator('[data-test="outbox-state"]')).toHaveText("等待");

  // ---- the tab reloads with no network at all (the service worker opens the app): nothing is lost
  await page.reload();
  await expect(page.getByRole("status").getByText("网络未连接，联网后自动更新")).toBeVisible();
  await expect(item).toContainText(title);
  await expect(item.locator('[data-test="outbox-state"]')).toHaveText("等待");
  expect(await casesTitled(page.request, title)).toHaveLength(0);

  // ---- back in coverage: it goes by itself, once, with everything
  await page.context().setOffline(false);
  await expect(item.locator('[data-test="outbox-state"]')).toHaveText("已发送", { timeout: 90_000 });
  const found = await casesTitled(page.request, title);
  expect(found).toHaveLength(1);
  const detail = await (await page.request.get(`/api/v1/cases/${found[0].id}/`)).json();
  expect(detail.state).toBe("pending_review");
  expect(detail.answers).toMatchObject({ stall_count: 2, goods: "熟食" });
  expect(detail.address).toBe("华严村桥头");
  const photos = detail.answers.site_photo as string[];
  expect(photos).toHaveLength(2);
  for (const id of photos) expect((await page.request.get(`/api/v1/uploads/${id}/file/`)).ok()).toBe(true);
  const voices = (await roomMessages(page.request, found[0].id)).filter((m) => m.kind === "voice");
  expect(voices).toHaveLength(1);
  expect(photos.length + voices.length).toBe(3);
  // the draft kept on the phone is gone once the case has arrived
  await page.goto("/outbox");
  await expect(page.locator('[data-test="local-draft"]')).toHaveCount(0);
});

test("a draft is kept on the phone as it is typed and reopens after a reload", async ({ page }) => {
  const title = `未发的草稿 ${Date.now()}`;
  await page.goto("/raise");
  await page.getByPlaceholder("搜索模板名称或编号").fill("占道");
  await page.getByRole("button", { name: /占道经营.*一键代入/ }).click();
  await page.getByLabel("标题").fill(title);
  await page.locator('[data-field="stall_count"] input').fill("5");
  await page.getByLabel("选择录音文件").setInputFiles(voiceNote());
  await expect(page).toHaveURL(/local=/);
  // kept on the phone as it is typed: wait until IndexedDB holds it
  await expect.poll(() => page.evaluate(storedTitles)).toContain(title);
  await page.goto("/outbox");
  const draft = page.locator('[data-test="local-draft"]', { hasText: title });
  await expect(draft).toContainText("0 张照片 · 1 条语音");
  await page.reload();
  await draft.click();
  await expect(page.getByLabel("标题")).toHaveValue(title);
  await expect(page.locator('[data-field="stall_count"] input')).toHaveValue("5");
  await expect(page.locator('[data-test="voice-note"]')).toHaveCount(1);
});

test("five messages written offline arrive once each, in order", async ({ page }) => {
  const caseId = await openRoom();
  await page.goto(`/cases/${caseId}/room`);
  await expect(page.getByPlaceholder("输入消息")).toBeVisible();
  const stamp = Date.now();
  const texts = [1, 2, 3, 4, 5].map((n) => `离线消息 ${stamp} 第${n}条`);
  await page.context().setOffline(true);
  for (const text of texts) {
    await page.getByPlaceholder("输入消息").fill(text);
    await page.getByRole("button", { name: "发送" }).click();
    await expect(page.getByText(text)).toBeVisible();
  }
  // still on the phone after a reload with no server
  await cutServer(page); // first: the outbox must not slip through between the two
  await page.context().setOffline(false);
  await page.reload();
  for (const text of texts) await expect(page.getByText(text)).toBeVisible();
  await restoreServer(page);
  await expect
    .poll(async () => (await roomMessages(page.request, caseId)).filter((m) => m.text.startsWith(`离线消息 ${stamp}`)).map((m) => m.text), {
      timeout: 90_000,
    })
    .toEqual(texts);
  await expect(page.getByText("发送失败")).toHaveCount(0);
});

test("an answer lost after the server's commit: the retry creates nothing new", async ({ page }) => {
  const caseId = await openRoom();
  await page.goto(`/cases/${caseId}/room`);
  await expect(page.getByPlaceholder("输入消息")).toBeVisible();
  const text = `丢失回执 ${Date.now()}`;
  const keys: string[] = [];
  let cut = 0;
  await page.route(`**/api/v1/cases/${caseId}/messages/`, async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    keys.push(route.request().headers()["idempotency-key"] ?? "");
    if (cut++ === 0) {
      await route.fetch(); // the server commits the message …
      return route.abort("connectionreset"); // … and the phone never hears back
    }
    return route.continue();
  });
  await page.getByPlaceholder("输入消息").fill(text);
  await page.getByRole("button", { name: "发送" }).click();
  await expect.poll(() => keys.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  await expect.poll(async () => (await roomMessages(page.request, caseId)).filter((m) => m.text === text).length).toBe(1);
  expect(new Set(keys).size).toBe(1); // the same Idempotency-Key each time
  expect(keys[0]).not.toBe("");
  await expect(page.getByText(text)).toHaveCount(1);
  await expect(page.getByText("发送失败")).toHaveCount(0);
});

test("a message queued offline that the server refuses on arrival is shown with its reason", async ({ page, browser }) => {
  // 叶磊 (s0001) writes in the room with no signal; meanwhile the caller takes him off the case
  const caseId = info().withdrawn;
  const context = await browser.newContext({ storageState: asUser("s0001"), viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" });
  const staff = await context.newPage();
  await staff.goto(`/cases/${caseId}/room`);
  await expect(staff.getByPlaceholder("输入消息")).toBeVisible();
  await context.setOffline(true);
  const text = `离线时写的 ${Date.now()}`;
  await staff.getByPlaceholder("输入消息").fill(text);
  await staff.getByRole("button", { name: "发送" }).click();
  await expect(staff.getByText(text)).toBeVisible();

  const detail = await (await page.request.get(`/api/v1/cases/${caseId}/`)).json();
  const invitation = detail.invitations.find((i: { person: { name: string }; state: string }) => i.person.name === "叶磊" && i.state === "accepted");
  const csrf = (await page.context().cookies()).find((c) => c.name === "csrftoken")?.value ?? "";
  const withdrawn = await page.request.post(`/api/v1/invitations/${invitation.id}/withdraw/`, {
    data: { reason: "改派他人" },
    headers: { "X-CSRFToken": csrf, Referer: info().baseURL },
  });
  expect(withdrawn.ok(), await withdrawn.text()).toBe(true);

  // back in coverage: the server refuses it; the phone says so, and why, and keeps it
  await context.setOffline(false);
  await staff.goto("/outbox");
  const item = staff.locator('[data-test="outbox-item"]', { hasText: text });
  await expect(item.locator('[data-test="outbox-state"]')).toHaveText("失败", { timeout: 60_000 });
  await expect(item.locator('[data-test="outbox-reason"]')).toHaveText(REFUSAL);
  await expect(item.locator('[data-test="outbox-case"]')).toBeVisible();
  expect((await roomMessages(page.request, caseId)).filter((m) => m.text === text)).toHaveLength(0);
  // the person discards it: gone for good
  await item.getByRole("button", { name: "放弃" }).click();
  await staff.getByRole("button", { name: "确认" }).click();
  await expect(item).toHaveCount(0);
  await context.close();
});

/** A noisy photo (noise does not compress: a big upload even after the phone's downscale). */
async function noisyShot(page: Page) {
  const base64 = await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 2000;
    canvas.height = 1500;
    const context = canvas.getContext("2d")!;
    const image = context.createImageData(2000, 1500);
    let seed = 7;
    for (let i = 0; i < image.data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      image.data[i] = i % 4 === 3 ? 255 : seed & 255;
    }
    context.putImageData(image, 0, 0);
    const blob: Blob = await new Promise((r) => canvas.toBlob((b) => r(b!), "image/jpeg", 0.9));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  });
  return { name: "IMG_NOISE.jpg", mimeType: "image/jpeg", buffer: Buffer.from(base64, "base64") };
}

/** A second server on the same data (serve.py E2E_SERVE_VAR), that this test may kill. */
async function secondServer(port: number): Promise<ChildProcess> {
  const child = spawn(resolve(root, ".venv/bin/python"), [resolve(root, "mobile/e2e/serve.py")], {
    cwd: root,
    env: { ...process.env, E2E_PORT: String(port), E2E_SERVE_VAR: info().var },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/live`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`the second server stopped (${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the second server did not start");
}

async function stopServer(child: ChildProcess | null, signal: NodeJS.Signals = "SIGTERM") {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await gone;
}

async function slowUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 50,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return async () => {
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  };
}

const images = async (request: APIRequestContext, base: string, caseId: number) => {
  const answer = await request.get(`${base}/api/v1/cases/${caseId}/messages/`, { params: { after: 0, limit: 200 } });
  expect(answer.ok()).toBe(true);
  return ((await answer.json()).messages as { kind: string }[]).filter((m) => m.kind === "image").length;
};

test("the server is killed mid-upload and started again: the photo arrives, once", async ({ page }) => {
  const port = Number(process.env.E2E_PORT) + 700;
  const base = `http://127.0.0.1:${port}`;
  const caseId = info().room;
  let server: ChildProcess | null = await secondServer(port);
  try {
    await page.goto(`${base}/cases/${caseId}/room`);
    await expect(page.getByPlaceholder("输入消息")).toBeVisible();
    const before = await images(page.request, base, caseId);
    const shot = await noisyShot(page);
    const fast = await slowUploads(page, 48 * 1024);
    await page.locator("input[type=file][multiple]").setInputFiles(shot);
    // progress is shown while it goes …
    await expect(page.getByText(/发送中\s*([1-9]\d*)%/)).toBeVisible({ timeout: 60_000 });
    // … and the server dies under it
    await stopServer(server, "SIGKILL");
    server = null;
    await fast();
    server = await secondServer(port);
    await expect.poll(() => images(page.request, base, caseId), { timeout: 120_000 }).toBe(before + 1);
    await expect(page.getByText(/发送中/)).toHaveCount(0, { timeout: 60_000 });
    await expect(page.getByText("发送失败")).toHaveCount(0);
    expect(await images(page.request, base, caseId)).toBe(before + 1);
  } finally {
    await stopServer(server);
  }
});

test("an upload can be cancelled while it goes, then discarded: nothing arrives", async ({ page }) => {
  const caseId = info().room;
  await page.goto(`/cases/${caseId}/room`);
  await expect(page.getByPlaceholder("输入消息")).toBeVisible();
  const before = await images(page.request, "", caseId);
  const shot = await noisyShot(page);
  await slowUploads(page, 24 * 1024);
  await page.locator("input[type=file][multiple]").setInputFiles(shot);
  await expect(page.getByText(/发送中\s*([1-9]\d*)%/)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByPlaceholder("输入消息")).toBeEditable(); // nothing freezes meanwhile
  await page.getByRole("button", { name: "取消", exact: true }).click();
  await expect(page.getByText(/发送失败：已取消/)).toBeVisible();
  await page.getByRole("button", { name: "放弃", exact: true }).click();
  await expect(page.getByText(/发送失败/)).toHaveCount(0);
  await page.goto("/outbox");
  await expect(page.locator('[data-test="outbox-item"]', { hasText: "IMG_NOISE" })).toHaveCount(0);
  expect(await images(page.request, "", caseId)).toBe(before);
});
