import { test, expect } from "@playwright/test";
import { signIn, signOut } from "./support/auth";
import { useLab } from "./support/lab";
import { failOnConsoleErrors, hydrated, shot } from "./support/page";

// The lab: a /28 inside 127.0.0.0/8 (all loopback on this machine). Four of
// its sixteen addresses run a listener on Symantec AntiVirus' port 2967; the
// rest answer every connect with a refusal, i.e. they are up and have no agent.
// AVSWEEP_E2E_LAB moves it (three octets, e.g. "127.77.5") so parallel runs don't collide.
const LAB = process.env.AVSWEEP_E2E_LAB ?? "127.77.0";
const SUBNET = `${LAB}.0/28`;
const PROTECTED = [2, 3, 9, 14].map((n) => `${LAB}.${n}`);
const ALL = Array.from({ length: 16 }, (_, i) => `${LAB}.${i}`);
const UNPROTECTED = ALL.filter((a) => !PROTECTED.includes(a));

const lab = useLab();
test.beforeAll(async () => {
  for (const host of PROTECTED) await lab.listen(2967, host);
});

test("the vendor profiles page lists the seeded Symantec profile", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "manager");
  await page.goto("/profiles");
  await hydrated(page);
  const sav = page.locator('tr[data-profile="symantec-sav"]');
  await expect(sav).toContainText("Symantec");
  await expect(sav).toContainText("2967");
  await shot(page, "profiles");
  expect(problems).toEqual([]);
});

test("bad subnets are refused with a message next to the field", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "admin");
  await page.goto("/subnets/new");
  await hydrated(page);
  const cidr = page.getByLabel("Subnet (CIDR)");
  const name = page.getByLabel("Name");
  const error = page.locator("#cidr-error");
  for (const [input, message] of [
    ["10.0.0.0/33", "out of range"],
    ["foo", "not a CIDR block"],
    ["10.0.0.0/7", "too large"],
  ]) {
    await cidr.fill(input);
    await name.fill("Bad one");
    await page.getByRole("button", { name: "Add subnet" }).click();
    await expect(error).toContainText(message);
    await expect(cidr).toHaveAttribute("aria-invalid", "true");
  }
  expect(problems).toEqual([]);
});

test("scanning a subnet shows its compliance and the hosts without AV", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "admin");
  await page.goto("/subnets/new");
  await hydrated(page);
  await page.getByLabel("Subnet (CIDR)").fill(SUBNET);
  await page.getByLabel("Name").fill("E2E lab");
  await page.getByRole("button", { name: "Add subnet" }).click();

  // The hydrated app navigates to the new subnet's page.
  await expect(page.getByRole("heading", { name: "E2E lab" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Not scanned yet" })).toBeVisible();
  await hydrated(page);

  // "Scan now" is a plain button with a click handler: it only works when hydration works.
  await page.getByTestId("scan-now").click();
  await expect(page.getByTestId("compliance")).toHaveText("25.0 %", { timeout: 60_000 });
  await expect(page.getByTestId("count-protected")).toHaveText("4");
  await expect(page.getByTestId("count-unprotected")).toHaveText("12");
  await expect(page.getByTestId("count-unknown")).toHaveText("0");
  await expect(page.getByTestId("count-up")).toHaveText("16");

  const rows = page.getByTestId("gap-list").locator("tbody tr");
  await expect(rows).toHaveCount(UNPROTECTED.length);
  const addresses = await rows.locator("td:first-child").allTextContents();
  expect(addresses).toEqual(UNPROTECTED);
  for (const host of PROTECTED) expect(addresses).not.toContain(host);
  await expect(rows.first()).toContainText("closed: 2967");

  // The overview shows the same number.
  await page.getByRole("link", { name: "Overview" }).click();
  const row = page.getByRole("row", { name: /E2E lab/ });
  await expect(row).toContainText("25.0 %");
  await expect(row).toContainText(SUBNET);
  expect(problems).toEqual([]);
});

test("an unknown address gets the 404 page", async ({ page }) => {
  await signIn(page, "manager");
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await shot(page, "not-found");
});

test("anonymous visitors sign in and return to the page they asked for", async ({ page }) => {
  await page.goto("/profiles");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofiles|\/login\?next=\/profiles/);
  await page.getByLabel("Username").fill("e2e-manager");
  await page.getByLabel("Password").fill("wrong password here");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signin-error")).toContainText("username or password is not right");
  // From here on, no console errors (the failed attempt's page is answered 401 on purpose).
  const problems = failOnConsoleErrors(page);
  await page.getByLabel("Username").fill("e2e-manager");
  await page.getByLabel("Password").fill("e2e password 12345");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/profiles$/);
  await hydrated(page);
  // A manager reads; the navigation offers nothing they may not do.
  await expect(page.getByTestId("account")).toContainText("manager");
  await expect(page.getByRole("link", { name: "Add subnet" })).toHaveCount(0);
  await signOut(page);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  expect(problems).toEqual([]);
});
