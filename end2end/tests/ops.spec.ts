import { test, expect } from "@playwright/test";
import { signIn } from "./support/auth";
import { useLab } from "./support/lab";
import { failOnConsoleErrors, hydrated, shot } from "./support/page";

// The Scans and Setup pages, end to end, as an administrator.
// The lab: a /28 inside 127.0.0.0/8 (loopback). Two addresses run a listener on
// Symantec's port 2967, one on port 4118 (a custom profile defined by the test);
// the last address is excluded, so 15 addresses are scanned.
const LAB = process.env.AVSWEEP_E2E_LAB ?? "127.77.0";
// The third /28 of the lab, so no other spec file defines the same subnet.
const SUBNET = `${LAB}.32/28`;
const at = (n: number) => `${LAB}.${32 + n}`;
const SYMANTEC = [at(2), at(9)];
const CUSTOM = at(5);
const CUSTOM_PORT = 4118;
const EXCLUDED = at(15);

const lab = useLab();
test.beforeAll(async () => {
  for (const host of SYMANTEC) await lab.listen(2967, host);
  await lab.listen(CUSTOM_PORT, CUSTOM);
});

test("an admin defines a lab, scans it live and schedules it", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "admin");

  // Subnet, with a per-field message for a bad one first.
  await page.goto("/admin/subnets");
  await hydrated(page);
  // Each subnet row has its own edit form: address the "Add a subnet" form.
  const add = page.locator("#add-subnet");
  await add.getByLabel("Subnet (CIDR)").fill("10.0.0.0/33");
  await add.getByLabel("Name", { exact: true }).fill("Bad");
  await add.getByRole("button", { name: "Add subnet" }).click();
  await expect(page.locator("#cidr-error")).toContainText("out of range");
  await expect(add.getByLabel("Subnet (CIDR)")).toHaveAttribute("aria-invalid", "true");
  await add.getByLabel("Subnet (CIDR)").fill(SUBNET);
  await add.getByLabel("Name", { exact: true }).fill("Ops lab");
  await add.getByLabel("Owner contact").fill("lab-owner@example.org");
  await add.getByRole("button", { name: "Add subnet" }).click();
  await expect(page.locator(`#subnet-table tr[data-cidr="${SUBNET}"]`)).toContainText("Ops lab");
  await shot(page, "admin-subnets");

  // Exclusion.
  await page.goto("/admin/exclusions");
  await hydrated(page);
  await page.getByLabel("Address or range").fill(EXCLUDED);
  await page.getByLabel("Reason").fill("Fragile printer");
  await page.getByRole("button", { name: "Exclude" }).click();
  await expect(page.locator(`#exclusion-table tr[data-cidr="${EXCLUDED}/32"]`)).toContainText("Fragile printer");
  await shot(page, "admin-exclusions");

  // Custom profile on our own listener's port, then test it against one address.
  await page.goto("/admin/profiles");
  await hydrated(page);
  await page.getByLabel("Vendor", { exact: true }).fill("Acme");
  await page.getByLabel("Product", { exact: true }).fill("Agent");
  await page.getByLabel("TCP ports").fill(String(CUSTOM_PORT));
  await page.getByRole("button", { name: "Add profile" }).click();
  await expect(page.locator('tr[data-profile="custom-acme-agent"]')).toContainText(String(CUSTOM_PORT));
  await page.locator("#profile_key").selectOption("custom-acme-agent");
  await page.locator("#address").fill("192.0.2.1");
  await page.getByRole("button", { name: "Test", exact: true }).click();
  await expect(page.locator("#address-error")).toContainText("not inside a defined subnet");
  await page.locator("#address").fill(CUSTOM);
  await page.getByRole("button", { name: "Test", exact: true }).click();
  await expect(page.locator("#test-result")).toContainText("open");
  await expect(page.locator("#test-result .verdict-protected")).toBeVisible();
  await shot(page, "admin-profiles");

  // Scans: preview, start, live progress over SSE, history.
  await page.goto("/scans");
  await hydrated(page);
  await page.locator(`input[data-cidr="${SUBNET}"]`).check();
  await expect(page.locator("#address-preview")).toContainText("15 addresses after exclusions");
  const events = page.waitForRequest(/\/api\/scans\/\d+\/events$/);
  await page.getByRole("button", { name: "Start scan" }).click();
  await events;
  // Only the stream's "done" event refreshes the history: no reload, no polling.
  // Other specs' scans are in the history too: this subnet's row.
  const row = page.locator('#scan-history tr[data-status="done"]').filter({ hasText: SUBNET });
  await expect(row).toBeVisible({ timeout: 60_000 });
  await expect(row).toContainText(SUBNET);
  await expect(row.locator("td").nth(5)).toContainText("15 / 15");
  await expect(row.locator("td").nth(7)).toHaveText("3");
  await expect(page.locator("#no-running")).toBeVisible();
  const pager = page.getByRole("navigation", { name: "History pages" });
  await expect(pager.getByRole("button", { name: "Older" })).toBeDisabled();
  await expect(pager).toHaveText(/Newer\s*Page 1 of 1 · \d+ scans\s*Older/);
  await shot(page, "scans");

  // Schedule.
  await page.goto("/admin/schedules");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill("Nightly lab");
  await page.getByLabel("Cron expression").fill("0 2 * * *");
  await page.getByLabel("Time zone").fill("Europe/Berlin");
  await page.locator(`#add-schedule input[data-cidr="${SUBNET}"]`).check();
  await page.getByRole("button", { name: "Add schedule" }).click();
  const schedule = page.locator('#schedule-table tr[data-schedule="Nightly lab"]');
  await expect(schedule).toContainText("02:00");
  await expect(schedule).toContainText(SUBNET);
  await shot(page, "admin-schedules");

  expect(problems).toEqual([]);
});
