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
