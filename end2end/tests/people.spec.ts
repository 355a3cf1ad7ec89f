import { test, expect } from "@playwright/test";
import { signIn } from "./support/auth";
import { failOnConsoleErrors, hydrated, shot } from "./support/page";

// Accounts, the audit log and API tokens, as the people who use them.

test("an admin adds a user, and the audit log shows who did it", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "admin");
  await page.goto("/admin/users");
  await hydrated(page);
  await page.getByLabel("Username").fill("e2e-newcomer");
  await page.getByLabel("Initial password").fill("a long initial password");
  await page.getByLabel("Role", { exact: true }).selectOption("helpdesk");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status")).toHaveText("e2e-newcomer was added as helpdesk.");
  const row = page.getByTestId("user-list").getByRole("row", { name: /e2e-newcomer/ });
  await expect(row.getByLabel("Role of e2e-newcomer")).toHaveValue("helpdesk");
  await shot(page, "admin-users");

  await page.goto("/admin/audit?action=user.");
  await hydrated(page);
  const entry = page.getByTestId("audit-list").getByRole("row", { name: /e2e-newcomer/ }).first();
  await expect(entry).toContainText("e2e-admin");
  await shot(page, "admin-audit");
  expect(problems).toEqual([]);
});

test("a manager creates an API token that is shown once and works for scripts", async ({ page, playwright, baseURL }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "manager");
  await page.goto("/account");
  await hydrated(page);
  await page.getByLabel("Token name").fill("nightly export");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = (await page.getByTestId("new-token").textContent())?.trim() ?? "";
  expect(secret.length).toBeGreaterThan(20);
  const row = page.getByTestId("token-list").getByRole("row", { name: /nightly export/ });
  await expect(row).toContainText("never");
  await shot(page, "account");

  // A script without cookies: refused without the token or with a wrong one,
  // served with it. (The Origin header gets it past the cross-site check, so
  // the answer is about signing in.)
  const script = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL! } });
  expect((await script.post("/api/subnets/list")).status()).toBe(401);
  const wrong = await script.post("/api/subnets/list", {
    headers: { authorization: `Bearer ${secret.slice(0, -4)}xxxx` },
  });
  expect(wrong.status()).toBe(401);
  const withToken = await script.post("/api/subnets/list", {
    headers: { authorization: `Bearer ${secret}` },
  });
  expect(withToken.status()).toBe(200);
  expect(Array.isArray(await withToken.json())).toBe(true);
  await script.dispose();

  // The page never shows the secret again.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(row).not.toContainText("never");
  expect(problems).toEqual([]);
});
