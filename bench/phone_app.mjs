// The phone app's benchmark (issue 13): bytes shipped for the first screen, time to a
// usable screen under slow 4G and a 4x slower CPU, and a 100-message room scrolled
// from bottom to top with frame timing.
//
//   node bench/phone_app.mjs [--runs 3] [--waterfall]      (from the repository root; needs mobile/dist
//                                               and mobile/node_modules: bin/setup)
//
// It starts mobile/e2e/serve.py (the browser tests' seeded demo server: uvicorn serving
// mobile/dist as Django does in production), posts 100 messages to one open case through
// chat.services, logs in once, then for each run opens a fresh browser context (empty
// cache) with the session cookies and measures. Prints one table per run and the medians.
//
// Profile "slow 4G" (Lighthouse's): 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up,
// applied with CDP Network.emulateNetworkConditions; CPU 4x slower with
// Emulation.setCPUThrottlingRate. "Usable" is the moment the screen's content element
// (home: [data-test=home], case: [data-test=case], room: its messages) is in the DOM,
// seen by a MutationObserver, in ms since navigation start (performance.now()).
// Frames: requestAnimationFrame deltas while the room's list scrolls 24 px a frame
// (1,440 px/s at 60 Hz) from its bottom to its top.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const require = createRequire(resolve(root, "mobile/package.json"));
const { chromium, request } = require("playwright-core");

const PYTHON = resolve(root, ".venv/bin/python");
const DIST = resolve(root, "mobile/dist");
const PASSWORD = "Jinshao@2024";
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8) | 0, uploadThroughput: (750e3 / 8) | 0 };
const CPU_RATE = 4;
const MESSAGES = 100;
const SCROLL_STEP = 24; // px per frame
const runsArg = process.argv.indexOf("--runs");
const WATERFALL = process.argv.includes("--waterfall"); // print each screen's requests
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  locale: "zh-CN",
  timezoneId: "Asia/Shanghai",
  userAgent:
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
};

// Runs in the seeded database (manage.py shell): the first open case (its room takes messages),
// 100 text messages from its people (the demo logins share one password) through chat.services. Prints {"room": id, "user": name}.
const ROOM_FIXTURE = String.raw`
import json
from accounts.models import User
from chat import selectors, services
from cases.models import Case
case = Case.objects.filter(state__in=selectors.OPEN_STATES).order_by("pk").first()
people = list(User.objects.filter(pk__in=selectors.member_ids(case)).order_by("username"))
user = people[0]
lines = ["路灯已经报修，明天上午师傅到场。", "收到，请把现场照片发一下，谢谢！",
         "这条路晚上没有照明，老人出行很不方便，希望尽快处理。今天下午我再去看一次，有情况随时在群里说。",
         "好的", "已联系供电所，他们说需要先确认线路归属，可能要两到三天。"]
for i in range(${MESSAGES}):
    sender = user if i % 3 == 0 else people[i % len(people)]
    services.post_text(case, sender=sender, text=f"{lines[i % len(lines)]}（{i + 1}）", deliver=False)
print(json.dumps({"room": case.pk, "user": user.username}))
`;

function startServer(port) {
  const server = spawn(PYTHON, [resolve(root, "mobile/e2e/serve.py")], {
    cwd: root,
    env: { ...process.env, E2E_PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const info = new Promise((resolveInfo, reject) => {
    const timer = setTimeout(() => reject(new Error("serve.py gave no E2E line in 15 minutes")), 900_000);
    server.on("exit", (code) => reject(new Error(`serve.py stopped (${code})`)));
    createInterface({ input: server.stdout }).on("line", (line) => {
      if (line.startsWith("E2E ")) {
        clearTimeout(timer);
        resolveInfo(JSON.parse(line.slice(4)));
      }
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

/** Posts the room's messages in the server's database (serve.py's environment for `var`). */
function seedRoom(varDir) {
  const script = [
    "import subprocess, sys",
    `sys.path.insert(0, ${JSON.stringify(resolve(root, "mobile/e2e"))})`,
    "import serve",
    "from pathlib import Path",
    `env = serve.environment(Path(${JSON.stringify(varDir)}))`,
    `code = sys.stdin.read()`,
    `sys.exit(subprocess.run([serve.PYTHON, "manage.py", "shell", "-c", code], cwd=serve.ROOT, env=env, timeout=600).returncode)`,
  ].join("\n");
  const done = spawnSync(PYTHON, ["-c", script], { cwd: root, input: ROOM_FIXTURE, encoding: "utf8", timeout: 620_000 });
  if (done.status !== 0) throw new Error(`room fixture failed: ${done.stderr}`);
  return JSON.parse(done.stdout.trim().split("\n").pop());
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

/** Records, in the page, when the first element matching `selector` (at least `count`) appears. */
function readyProbe({ selector, count }) {
  const check = () => {
    if (window.__ready === undefined && document.querySelectorAll(selector).length >= count) {
      window.__ready = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true });
}

/**
 * One cold load of `path` in a fresh context (empty cache) with the session, under slow 4G
 * and the CPU 4x slower (or not, `throttle: false`). Returns the time to usable, the paint
 * timings and every JS/CSS file fetched before it was usable.
 */
async function coldLoad(browser, baseURL, state, path, ready, { throttle = true } = {}) {
  const context = await browser.newContext({ ...PHONE, baseURL, storageState: state });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  if (throttle) {
    await cdp.send("Network.emulateNetworkConditions", SLOW_4G);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_RATE });
  }
  const requests = new Map();
  const all = new Map(); // every request: [url, sent, finished] in CDP seconds
  cdp.on("Network.requestWillBeSent", (e) => all.set(e.requestId, { url: e.request.url, sent: e.timestamp }));
  cdp.on("Network.loadingFinished", (e) => {
    const r = all.get(e.requestId);
    if (r) Object.assign(r, { done: e.timestamp, bytes: e.encodedDataLength });
  });
  cdp.on("Network.responseReceived", (e) => {
    if (e.type === "Script" || e.type === "Stylesheet") {
      requests.set(e.requestId, { url: e.response.url, type: e.type === "Script" ? "js" : "css", encoding: e.response.headers["content-encoding"] ?? e.response.headers["Content-Encoding"] ?? "" });
    }
  });
  cdp.on("Network.loadingFinished", (e) => {
    const r = requests.get(e.requestId);
    if (r) {
      r.wire = e.encodedDataLength;
      r.finished = performance.now();
    }
  });
  await page.addInitScript(readyProbe, ready);
  await page.goto(path, { waitUntil: "commit" });
  await page.waitForFunction(() => window.__ready !== undefined, null, { timeout: 120_000, polling: 100 });
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return { ready: window.__ready, fcp: fcp ? fcp.startTime : null, dcl: nav.domContentLoadedEventEnd, html: nav.responseEnd };
  });
  const files = [...requests.values()].filter((r) => r.wire !== undefined);
  const waterfall = [...all.values()].sort((a, b) => a.sent - b.sent);
  const t0 = waterfall[0]?.sent ?? 0;
  for (const r of waterfall) Object.assign(r, { sent: Math.round((r.sent - t0) * 1000), done: r.done ? Math.round((r.done - t0) * 1000) : null });
  return { context, page, cdp, timing, files, waterfall };
}

/** Sizes of the files: on the wire (as served here), raw and gzip -6 (computed from dist/). */
function sizes(files) {
  const out = { js: { raw: 0, gzip: 0, wire: 0, n: 0 }, css: { raw: 0, gzip: 0, wire: 0, n: 0 }, served: new Set() };
  for (const f of files) {
    const name = new URL(f.url).pathname;
    const local = resolve(DIST, "." + name);
    if (!existsSync(local)) continue;
    const body = readFileSync(local);
    const s = out[f.type];
    s.raw += body.length;
    s.gzip += gzipSync(body, { level: 6 }).length;
    s.wire += f.wire;
    s.n += 1;
    out.served.add(f.encoding || "identity");
  }
  return out;
}

/** Scrolls the room's list from its bottom to its top, one step per frame; frame deltas in ms. */
async function scrollRoom(page) {
  return page.evaluate(async (step) => {
    const list = document.querySelector("main.list");
    list.scrollTop = list.scrollHeight;
    await new Promise((r) => setTimeout(r, 500));
    const deltas = [];
    let last = 0;
    await new Promise((done) => {
      const frame = (now) => {
        if (last) deltas.push(now - last);
        last = now;
        if (list.scrollTop <= 0) return done();
        list.scrollTop = Math.max(0, list.scrollTop - step);
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    return { deltas, height: list.scrollHeight, view: list.clientHeight };
  }, SCROLL_STEP);
}

function frameStats({ deltas, height, view }) {
  const sorted = [...deltas].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return {
    frames: deltas.length,
    scrolled: height - view,
    over16: deltas.filter((d) => d > 16.7).length,
    over25: deltas.filter((d) => d > 25).length,
    over50: deltas.filter((d) => d > 50).length,
    p50: pct(50),
    p95: pct(95),
    max: sorted[sorted.length - 1],
  };
}

const kb = (n) => (n / 1024).toFixed(1);
const ms = (n) => (n == null ? "—" : Math.round(n).toString());
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function oneRun(browser, baseURL, states, ids) {
  const row = {};
  // (a)+(b) home, logged in, cold cache
  for (const [name, path, ready, state] of [
    ["home", "/", { selector: "[data-test=home]", count: 1 }, states.official],
    ["case", `/cases/${ids.pending_review}`, { selector: "[data-test=case]", count: 1 }, states.official],
    ["login", "/login", { selector: "form input", count: 2 }, undefined],
    ["room", `/cases/${ids.room}/room`, { selector: "main.list .row, main.list .system", count: 50 }, states.room],
  ]) {
    const load = await coldLoad(browser, baseURL, state, path, ready);
    row[name] = { ...load.timing, bytes: sizes(load.files) };
    if (WATERFALL) {
      console.log(`\n${name} waterfall (ms from the first request: sent → finished, bytes)`);
      for (const r of load.waterfall) console.log(`  ${r.sent} → ${r.done ?? "…"}  ${r.bytes ?? ""}  ${r.url.replace(baseURL, "")}`);
    }
    if (name === "room") {
      // 4x slower CPU still on; the network no longer matters
      await load.page.waitForFunction((n) => document.querySelectorAll("main.list .row, main.list .system").length >= n, ids.roomRows, { timeout: 60_000 });
      row.scroll4x = frameStats(await scrollRoom(load.page));
      await load.cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
      row.scroll1x = frameStats(await scrollRoom(load.page));
      row.roomRows = await load.page.evaluate(() => document.querySelectorAll("main.list .row, main.list .system").length);
    }
    await load.context.close();
  }
  return row;
}

function printRun(i, r) {
  const b = (x) => `${x.bytes.js.n} JS ${kb(x.bytes.js.raw)}/${kb(x.bytes.js.gzip)}/${kb(x.bytes.js.wire)} KB, ${x.bytes.css.n} CSS ${kb(x.bytes.css.raw)}/${kb(x.bytes.css.gzip)}/${kb(x.bytes.css.wire)} KB`;
  console.log(`\nrun ${i + 1}`);
  console.log("screen | usable ms | FCP ms | DCL ms | JS+CSS fetched before usable (raw/gzip-6/wire)");
  for (const name of ["home", "case", "login", "room"]) {
    const x = r[name];
    console.log(`${name} | ${ms(x.ready)} | ${ms(x.fcp)} | ${ms(x.dcl)} | ${b(x)}`);
  }
  for (const k of ["scroll4x", "scroll1x"]) {
    const f = r[k];
    console.log(`${k} | ${f.frames} frames over ${f.scrolled} px | >16.7 ms: ${f.over16} | >25 ms: ${f.over25} | >50 ms: ${f.over50} | p50 ${f.p50.toFixed(1)} p95 ${f.p95.toFixed(1)} max ${f.max.toFixed(1)} ms`);
  }
}

async function main() {
  if (!existsSync(resolve(DIST, "index.html"))) throw new Error("mobile/dist is missing: npm run build");
  const port = 20000 + ((process.pid + 7) % 20000);
  const { server, info: infoPromise } = startServer(port);
  let info;
  try {
    info = await infoPromise;
    await waitFor(`${info.baseURL}/health/live`, Date.now() + 60_000);
    const room = seedRoom(info.var);
    const states = { official: await logIn(info.baseURL, "cun001") };
    states.room = room.user === "cun001" ? states.official : await logIn(info.baseURL, room.user);
    const ids = { pending_review: info.pending_review, room: room.room, roomRows: MESSAGES };
    console.log(`server ${info.baseURL}; room case ${room.room} as ${room.user}; profile slow 4G (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up), CPU x${CPU_RATE}`);
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const runs = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        runs.push(await oneRun(browser, info.baseURL, states, ids));
        printRun(i, runs[i]);
      }
    } finally {
      await browser.close();
    }
    console.log(`\nmedians of ${RUNS} runs`);
    console.log("measure | median");
    for (const name of ["home", "case", "login", "room"]) {
      console.log(`${name} usable ms | ${ms(median(runs.map((r) => r[name].ready)))}`);
      console.log(`${name} FCP ms | ${ms(median(runs.map((r) => r[name].fcp)))}`);
    }
    const home = runs[0].home.bytes;
    console.log(`home JS+CSS raw KB | ${kb(home.js.raw + home.css.raw)}`);
    console.log(`home JS+CSS gzip-6 KB | ${kb(home.js.gzip + home.css.gzip)}`);
    console.log(`home JS+CSS wire KB (content-encoding: ${[...home.served].join(",")}) | ${kb(home.js.wire + home.css.wire)}`);
    for (const k of ["scroll4x", "scroll1x"]) {
      for (const m of ["over16", "over25", "over50", "p95"]) console.log(`${k} ${m} | ${median(runs.map((r) => r[k][m])).toFixed(m === "p95" ? 1 : 0)}`);
    }
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
    if (info?.var) spawnSync("rm", ["-rf", info.var]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
