import { expect, type Page } from "@playwright/test";
import { E2E_PASSWORD, usernameFor, type Role } from "./accounts";

export { ROLES, E2E_PASSWORD, usernameFor, type Role } from "./accounts";

/**
 * Signs `page` in as the run's account for `role` through the real sign-in
 * form, then waits until the app shows the signed-in user. Use it first in
 * every test that opens a page other than /login:
 *
 *   test("…", async ({ page }) => {
 *     await signIn(page, "helpdesk");
 *     await page.goto("/subnets/1");
 *   });
 */
export async function signIn(page: Page, role: Role, next = "/"): Promise<void> {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Username").fill(usernameFor(role));
  await page.getByLabel("Password").fill(E2E_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account")).toContainText(usernameFor(role));
}

/** Signs out through the navigation's "Sign out" button. */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
}
