import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { signIn } from "./support/auth";

// The Scans and Setup pages, end to end, as an administrator.
// The lab: a /28 inside 127.0.0.0/8 (loopback). Two addresses run a listener on
// Symantec's port 2967, one on port 4118 (a custom profile defined by the test);
// the last address is excluded, so 15 addresses are scanned.
const LAB = process.env.AVSWEEP_E2E_LAB ?? "127.77.32";
const SUBNET = `${LAB}.0/28`;
const SYMANTEC = [`${LAB}.2`, `${LAB}.9`];
const CUSTOM = `${LAB}.5`;
const CUSTOM_PORT = 4118;
const EXCLUDED = `${LAB}.15`;
const SHOTS = path.resolve(__dirname, "..", "output", "screenshots");

const listeners: net.Server[] = [];

async function listen(port: number, host: string) {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  listeners.push(server);
}

test.beforeAll(async () => {
  for (const host of SYMANTEC) await listen(2967, host);
  await listen(CUSTOM_PORT, CUSTOM);
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
});

function failOnConsoleErrors(page: Page) {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || /hydration/i.test(msg.text())) problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  return problems;
}

async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// fixme: add-subnet field message on the Setup page does not match (issue 6 open).
test.fixme("an admin defines a lab, scans it live and schedules it", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "admin");

  // Subnet, with a per-field message for a bad one first.
  await page.goto("/admin/subnets");
  await hydrated(page);
  await page.getByLabel("Subnet (CIDR)").fill("10.0.0.0/33");
  await page.getByLabel("Name", { exact: true }).fill("Bad");
  await page.getByRole("button", { name: "Add subnet" }).click();
  await expect(page.locator("#cidr-error")).toContainText("out of range");
  await page.getByLabel("Subnet (CIDR)").fill(SUBNET);
  await page.getByLabel("Name", { exact: true }).fill("E2E lab");
  await page.getByLabel("Owner contact").fill("lab-owner@example.org");
  await page.getByRole("button", { name: "Add subnet" }).click();
  await expect(page.locator(`#subnet-table tr[data-cidr="${SUBNET}"]`)).toContainText("E2E lab");
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
  const row = page.locator('#scan-history tr[data-status="done"]');
  await expect(row).toBeVisible({ timeout: 60_000 });
  await expect(row).toContainText(SUBNET);
  await expect(row.locator("td").nth(5)).toContainText("15 / 15");
  await expect(row.locator("td").nth(7)).toHaveText("3");
  await expect(page.locator("#no-running")).toBeVisible();
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
