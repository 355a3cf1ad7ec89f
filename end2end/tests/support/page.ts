import { expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

/** Where every spec saves its page screenshots for reviewers (git-ignored). */
export const SHOTS = path.resolve(__dirname, "..", "..", "output", "screenshots");

/**
 * Collects console errors, hydration warnings, CSP violations and uncaught
 * exceptions; a test ends with `expect(problems).toEqual([])`.
 */
export function failOnConsoleErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    const text = msg.text();
    if (msg.type() === "error" || /hydration|Content Security Policy/i.test(text)) problems.push(text);
  });
  page.on("pageerror", (err) => problems.push(err.message));
  return problems;
}

/** Waits until the wasm app is live (an effect sets the attribute once hydrated). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/**
 * The visible form controls on the page that have no accessible name: no
 * <label for>, no wrapping <label>, no aria-label(ledby), no title, and (for
 * buttons) no text. Returned as short descriptions, e.g. `input#q`.
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const controls = Array.from(
      document.querySelectorAll<HTMLElement>("input, select, textarea, button"),
    );
    return controls
      .filter((el) => {
        if ((el as HTMLInputElement).type === "hidden" || el.hidden) return false;
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) return false;
        if (el.getAttribute("aria-label")?.trim() || el.getAttribute("aria-labelledby")) return false;
        if (el.title?.trim()) return false;
        if (el.tagName === "BUTTON" && el.textContent?.trim()) return false;
        if (el.closest("label")) return false;
        return !(el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
      })
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${(el as HTMLInputElement).name ? "[name=" + (el as HTMLInputElement).name + "]" : ""}`);
  });
}

/**
 * Checks that every visible control on the page is labelled, then saves a
 * full-page screenshot as output/screenshots/<name>.png for reviewers.
 */
export async function shot(page: Page, name: string): Promise<void> {
  expect(await unlabelledControls(page), `unlabelled controls on ${name}`).toEqual([]);
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
