import { test, expect } from "@playwright/test";
import { signIn } from "./support/auth";
import { failOnConsoleErrors, hydrated, shot } from "./support/page";

// Runs before every other spec (a project dependency in playwright.config.ts),
// while the run's database still holds no subnet: what a new install shows.

test("a new install has no subnets and says how to start", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "admin");
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "No subnets yet" })).toBeVisible();
  await shot(page, "overview-empty");
  await page.getByRole("link", { name: "Add a subnet" }).click();
  await expect(page).toHaveURL(/\/subnets\/new$/);
  await expect(page.getByLabel("Subnet (CIDR)")).toBeEditable();
  await shot(page, "add-subnet");
  expect(problems).toEqual([]);
});

test("an anonymous visitor is sent to sign in", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByLabel("Username")).toBeVisible();
  await shot(page, "login");
  expect(problems).toEqual([]);
});

test("the sign-in form works from the keyboard with a visible focus ring", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await page.goto("/login");
  const username = page.getByLabel("Username");
  // Tab from the top of the page until the first field has focus.
  let presses = 0;
  while (!(await username.evaluate((el) => el === document.activeElement)) && presses < 20) {
    await page.keyboard.press("Tab");
    presses += 1;
  }
  await expect(username).toBeFocused();
  const ring = await username.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(ring).not.toBe("none");
  await page.keyboard.type("e2e-manager");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type("e2e password 12345");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("account")).toContainText("e2e-manager");
  expect(problems).toEqual([]);
});
