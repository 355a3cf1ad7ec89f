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

/** Saves a full-page screenshot as output/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
