// Issue 13: touch targets at least 44×44 CSS px, and text readable at the phone's
// large-font setting, on the main screens of a logged-in village official.
//
// Large font: the root font size is set to 130 % (`html{font-size:130%}` via
// addStyleTag, what "larger text" does to rem-sized web text) and, since Vant sizes
// text in px, every element's computed font size is multiplied by 1.3 inline
// (what Android's font scale does to a WebView's text).
import { expect, test, type Page } from "@playwright/test";
import { asUser } from "./helpers";

const MIN = 44;
const FONT_SCALE = 1.3;

const INTERACTIVE = [
  "button", "a[href]", "[role=button]", "input:not([type=hidden])", "select", "textarea",
  ".van-tabbar-item", ".van-cell--clickable", ".van-nav-bar__left", ".van-nav-bar__right", ".van-haptics-feedback", ".van-checkbox__icon", ".van-radio__icon",
].join(",");

async function screens(page: Page): Promise<[string, () => Promise<void>][]> {
  return [
    ["home", async () => { await page.goto("/"); await expect(page.getByTestId("home")).toBeVisible(); }],
    ["cases", async () => { await page.goto("/cases"); await expect(page.locator("[data-test^=case-]").first()).toBeVisible(); }],
    ["case", async () => {
      await page.goto("/cases");
      await page.locator("[data-test^=case-]").first().click();
      await expect(page.getByTestId("case")).toBeVisible();
    }],
    ["notifications", async () => { await page.goto("/notifications"); await expect(page.getByRole("button", { name: "全部已读" })).toBeVisible(); }],
    ["me", async () => { await page.goto("/me"); await expect(page.locator(".van-tabbar")).toBeVisible(); }],
    ["raise", async () => { await page.goto("/raise"); await expect(page.locator("main .van-cell, main button").first()).toBeVisible(); }],
  ];
}

/** Visible interactive elements whose box is under 44×44 px, described. */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(([sel, min]) => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(sel as string))) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === "hidden" || style.display === "none") continue;
      // an input inside a clickable field/cell: the field's row is the target
      const host = el.closest<HTMLElement>(".van-field, .van-cell, .van-checkbox, .van-radio, .van-uploader__upload");
      let box = r;
      if (host && host !== el && /^(INPUT|TEXTAREA)$/.test(el.tagName)) box = host.getBoundingClientRect();
      if (el.matches(".van-checkbox__icon, .van-radio__icon")) box = (el.closest(".van-checkbox, .van-radio") ?? el).getBoundingClientRect();
      // input type=file hidden under Vant's uploader box: the box is the target
      if (el.matches("input[type=file]")) box = (el.closest(".van-uploader__upload") ?? el).getBoundingClientRect();
      // WCAG 2.5.8 inline exception: a link inside a sentence of text
      if (el.tagName === "A" && style.display === "inline" && el.parentElement && /^(P|SPAN|LI)$/.test(el.parentElement.tagName)) continue;
      if (box.width + 0.5 < (min as number) || box.height + 0.5 < (min as number)) {
        const name = (el.getAttribute("aria-label") || el.textContent || el.className || el.tagName).trim().slice(0, 30);
        out.push(`${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]} "${name}" ${Math.round(box.width)}×${Math.round(box.height)}`);
      }
    }
    return out;
  }, [INTERACTIVE, MIN]);
}

/** Horizontal overflow of the page and text clipped by its container. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const se = document.scrollingElement!;
    if (se.scrollWidth > window.innerWidth) out.push(`page scrolls sideways: ${se.scrollWidth} > ${window.innerWidth}`);
    for (const el of Array.from(document.querySelectorAll<HTMLElement>("body *"))) {
      const s = getComputedStyle(el);
      if (s.display === "none" || el.offsetParent === null && s.position !== "fixed") continue;
      if (!el.textContent?.trim()) continue;
      // intentional one/two-line ellipsis (van-ellipsis, -webkit-line-clamp) is a choice, not a clip
      if (s.textOverflow === "ellipsis" || (s as unknown as Record<string, string>).webkitLineClamp !== "none" && (s as unknown as Record<string, string>).webkitLineClamp) continue;
      const clipsY = s.overflowY === "hidden" || s.overflowY === "clip";
      const clipsX = s.overflowX === "hidden" || s.overflowX === "clip";
      if (clipsY && el.scrollHeight > el.clientHeight + 1 && el.clientHeight > 0) out.push(`clipped vertically: ${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]} "${el.textContent.trim().slice(0, 20)}" ${el.scrollHeight}>${el.clientHeight}`);
      if (clipsX && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) out.push(`clipped sideways: ${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]} "${el.textContent.trim().slice(0, 20)}" ${el.scrollWidth}>${el.clientWidth}`);
    }
    return out;
  });
}

test.describe("village official", () => {
  test.use({ storageState: asUser("cun001") });

  test("every touch target on the main screens is at least 44×44 px", async ({ page }) => {
    const bad: string[] = [];
    for (const [name, open] of await screens(page)) {
      await open();
      for (const t of await smallTargets(page)) bad.push(`${name}: ${t}`);
    }
    console.log(`targets under ${MIN} px: ${bad.length}`);
    expect(bad, bad.join("\n")).toEqual([]);
  });

  test(`at ${FONT_SCALE * 100} % font size nothing scrolls sideways or is clipped`, async ({ page }) => {
    const bad: string[] = [];
    for (const [name, open] of await screens(page)) {
      await open();
      await page.addStyleTag({ content: `html{font-size:${FONT_SCALE * 100}% !important}` });
      // Vant sizes its text in px, which a root size leaves alone: scale every element's
      // computed font size as Android's font scale (WebView textZoom) does.
      await page.evaluate((k) => {
        const els = Array.from(document.querySelectorAll<HTMLElement>("body *"));
        const sizes = els.map((e) => parseFloat(getComputedStyle(e).fontSize));
        els.forEach((e, i) => e.style.setProperty("font-size", `${sizes[i] * k}px`, "important"));
      }, FONT_SCALE);
      await page.evaluate(() => new Promise(requestAnimationFrame));
      for (const t of await layoutProblems(page)) bad.push(`${name}: ${t}`);
    }
    console.log(`large-font problems: ${bad.length}`);
    expect(bad, bad.join("\n")).toEqual([]);
  });
});
