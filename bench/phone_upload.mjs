// The phone's photo upload under a weak network (issue 14): a 12-megapixel camera
// shot (4000×3000 JPEG, 5–8 MB), sent to a case room as it is and as the phone
// sends it (features/raise/photo.ts: long edge 2048 px, JPEG quality 0.85, then
// the outbox's XMLHttpRequest upload), under Chrome DevTools' "Slow 3G" preset.
//
//   node bench/phone_upload.mjs [--runs 1]       (from the repository root; needs mobile/dist
//                                               and mobile/node_modules: bin/setup)
//
// It starts mobile/e2e/serve.py (the browser tests' seeded demo server on
// $E2E_PORT, default 21802) and logs in cun001, whose case room serve.py opens.
// Network profile, applied with CDP Network.emulateNetworkConditions: DevTools'
// "Slow 3G" — 2,000 ms latency, 400 kbit/s (50,000 B/s) down and up (DevTools:
// 500 kbit/s × 0.8). CPU not throttled (the downscale time is the machine's).
// The photo: a smooth gradient with ±40 per-channel noise, drawn in the page and
// encoded by Chromium at JPEG quality 0.92 — noise compresses about as badly as
// a real camera's sensor noise and texture, so the file lands in the 5–8 MB
// band of 12 MP phone cameras. Measured per run:
//   - "as taken": an XMLHttpRequest posting the original file to the room
//     (`kind=image`), as a phone app without the downscale would;
//   - "phone": the room's album input (the app's own code path): downscale,
//     outbox, upload; the request's body bytes come from its Content-Length
//     (CDP), its time from request start to response end (CDP), and the
//     downscale time from the file being picked to the request starting.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const require = createRequire(resolve(root, "mobile/package.json"));
const { chromium, request } = require("playwright-core");

const PYTHON = resolve(root, ".venv/bin/python");
const PASSWORD = "Jinshao@2024";
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: 50_000, uploadThroughput: 50_000 };
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 1;
const PORT = Number(process.env.E2E_PORT ?? 21802);
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: "zh-CN" };

function startServer(port) {
  const server = spawn(PYTHON, [resolve(root, "mobile/e2e/serve.py")], {
    cwd: root,
    env: { ...process.env, E2E_PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const info = new Promise((resolveInfo, reject) => {
    server.on("exit", (code) => reject(new Error(`serve.py stopped (${code})`)));
    createInterface({ input: server.stdout }).on("line", (line) => {
      if (line.startsWith("E2E ")) resolveInfo(JSON.parse(line.slice(4)));
    });
  });
  return { server, info };
}

async function waitFor(url, deadline) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no answer from ${url}`);
}

async function logIn(baseURL, username) {
  const context = await request.newContext({ baseURL });
  await context.get("/api/v1/auth/session/");
  const csrf = (await context.storageState()).cookies.find((c) => c.name === "csrftoken")?.value ?? "";
  const answer = await context.post("/api/v1/auth/session/", {
    data: { username, password: PASSWORD },
    headers: { "X-CSRFToken": csrf, Referer: baseURL },
    timeout: 120_000,
  });
  if (!answer.ok()) throw new Error(`log-in of ${username}: ${answer.status()} ${await answer.text()}`);
  const state = await context.storageState();
  await context.dispose();
  return state;
}

/** A 4000×3000 camera-like JPEG made in the page; returns its bytes (base64). */
function cameraShot() {
  return (async () => {
    const w = 4000;
    const h = 3000;
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const context = canvas.getContext("2d");
    const image = context.createImageData(w, h);
    let seed = 12345;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        for (let c = 0; c < 3; c++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          const base = c === 0 ? (x / w) * 200 : c === 1 ? (y / h) * 180 + 40 : 120;
          image.data[i + c] = Math.max(0, Math.min(255, base + ((seed >> 8) % 81) - 40));
        }
        image.data[i + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
    const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.92));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  })();
}

/** One POST of the file as taken (no downscale), in the page; ms and body bytes. */
function rawUpload({ base64, caseId }) {
  return (async () => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const body = new FormData();
    body.append("kind", "image");
    body.append("file", new File([bytes], "IMG_4000x3000.jpg", { type: "image/jpeg" }));
    body.append("client_id", `bench-raw-${Date.now()}`);
    const csrf = decodeURIComponent((document.cookie.match(/csrftoken=([^;]+)/) ?? [])[1] ?? "");
    const started = performance.now();
    const status = await new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/api/v1/cases/${caseId}/messages/`);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.onloadend = () => resolve(xhr.status);
      xhr.send(body);
    });
    return { ms: performance.now() - started, status };
  })();
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const { server, info } = startServer(PORT);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"],
  });
  try {
    const data = await info;
    await waitFor(`${data.baseURL}/health/live`, Date.now() + 60_000);
    const state = await logIn(data.baseURL, "cun001");
    const rows = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ ...PHONE, baseURL: data.baseURL, storageState: state });
      const page = await context.newPage();
      await page.goto(`/cases/${data.room}/room`);
      await page.getByPlaceholder("输入消息").waitFor();
      const base64 = await page.evaluate(cameraShot);
      const original = Buffer.from(base64, "base64");
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
      const posts = new Map();
      cdp.on("Network.requestWillBeSent", (e) => {
        if (e.request.method === "POST" && e.request.url.includes("/messages/")) posts.set(e.requestId, { sent: e.timestamp, wall: Date.now() });
      });
      const lengths = new Map(); // ExtraInfo may come before or after requestWillBeSent
      cdp.on("Network.requestWillBeSentExtraInfo", (e) => {
        const length = e.headers["Content-Length"] ?? e.headers["content-length"];
        if (length) lengths.set(e.requestId, Number(length));
      });
      cdp.on("Network.loadingFinished", (e) => {
        const r = posts.get(e.requestId);
        if (r) r.done = e.timestamp;
      });

      // as taken
      const raw = await page.evaluate(rawUpload, { base64, caseId: data.room });
      const rawIds = new Set(posts.keys());

      // as the phone sends it
      const picked = Date.now();
      await page.locator("input[type=file][multiple]").setInputFiles({ name: "IMG_4000x3000.jpg", mimeType: "image/jpeg", buffer: original });
      const deadline = Date.now() + 600_000;
      const phonePosts = () => [...posts].filter(([id]) => !rawIds.has(id)).map(([, p]) => p);
      while (!phonePosts().some((p) => p.done) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      for (const [id, p] of posts) p.bytes = lengths.get(id);
      const post = phonePosts().find((p) => p.done) ?? {};
      const rawPost = [...posts].filter(([id]) => rawIds.has(id)).map(([, p]) => p)[0] ?? {};
      rows.push({
        original: original.length,
        rawStatus: raw.status,
        rawBody: rawPost.bytes ?? null,
        rawSeconds: raw.ms / 1000,
        phoneBody: post.bytes ?? null,
        phoneSeconds: post.done ? post.done - post.sent : null,
        downscaleSeconds: post.wall ? (post.wall - picked) / 1000 : null,
      });
      console.log(`run ${run + 1}:`, JSON.stringify(rows[rows.length - 1]));
      await context.close();
    }
    const m = (key) => median(rows.map((r) => r[key]).filter((v) => v !== null));
    console.log("\nmedians over", rows.length, "run(s), DevTools Slow 3G (2,000 ms, 400 kbit/s up/down):");
    console.log(`  photo as taken:        ${(m("original") / 1e6).toFixed(2)} MB (4000×3000 JPEG q0.92)`);
    console.log(`  upload as taken:       ${(m("rawBody") / 1e6).toFixed(2)} MB request body, ${m("rawSeconds").toFixed(1)} s (HTTP ${rows[0].rawStatus})`);
    console.log(`  upload as the phone:   ${(m("phoneBody") / 1e6).toFixed(2)} MB request body, ${m("phoneSeconds").toFixed(1)} s (+ ${m("downscaleSeconds").toFixed(1)} s downscale before it starts)`);
    console.log(`  bytes saved:           ${(100 * (1 - m("phoneBody") / m("rawBody"))).toFixed(0)} %`);
  } finally {
    await browser.close();
    server.kill("SIGTERM");
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
