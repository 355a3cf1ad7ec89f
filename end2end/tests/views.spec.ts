import { test, expect } from "@playwright/test";
import { signIn } from "./support/auth";
import { useLab } from "./support/lab";
import { failOnConsoleErrors, hydrated, shot } from "./support/page";

// The second /28 of the lab (all loopback here), so this file and
// skeleton.spec.ts never define the same subnet in one run's database. Four
// addresses run a listener on Symantec AntiVirus' port 2967; the other twelve
// refuse every connect, i.e. are up without an agent.
const LAB = process.env.AVSWEEP_E2E_LAB ?? "127.77.0";
const SUBNET = `${LAB}.16/28`;
const at = (n: number) => `${LAB}.${16 + n}`;
const PROTECTED = [2, 3, 9, 14].map(at);
const NAME = "Views lab";

const lab = useLab();
test.beforeAll(async () => {
  for (const host of PROTECTED) await lab.listen(2967, host);
});

test("scan, triage a gap, export it and read the host's evidence", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  await signIn(page, "admin");

  // Add the subnet and scan it.
  await page.goto("/subnets/new");
  await hydrated(page);
  await page.getByLabel("Subnet (CIDR)").fill(SUBNET);
  await page.getByLabel("Name").fill(NAME);
  await page.getByRole("button", { name: "Add subnet" }).click();
  await expect(page.getByRole("heading", { name: NAME })).toBeVisible();
  await hydrated(page);
  await page.getByTestId("scan-now").click();
  await expect(page.getByTestId("compliance")).toHaveText("25.0 %", { timeout: 60_000 });
  await expect(page.getByTestId("count-unprotected")).toHaveText("12");
  const subnetUrl = page.url();

  // The overview counts it, worst first, with a trend and its text alternative.
  await page.getByRole("link", { name: "Overview" }).click();
  await hydrated(page);
  const row = page.getByTestId("subnet-table").getByRole("row", { name: new RegExp(NAME) });
  await expect(row).toContainText("25.0 %");
  await expect(row).toContainText(SUBNET);
  await expect(row.locator("time")).toHaveText(/just now|min ago/);
  await expect(page.getByTestId("overall-compliance")).toHaveText(/%$/);
  await expect(page.getByRole("img", { name: /Estate compliance/ })).toBeVisible();
  await shot(page, "overview");

  // The gap list filters by address prefix; the filter lives in the URL.
  await page.goto(subnetUrl);
  await hydrated(page);
  const gaps = page.getByTestId("gap-list").locator("tbody tr");
  await expect(gaps).toHaveCount(12);
  await page.getByLabel("Search address or name").fill(`${LAB}.2`);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${LAB.replace(/\./g, "\\.")}\\.2`));
  await hydrated(page);
  // .20-.29 minus the protected .25 (and .18/.19/.30 are outside the prefix).
  const matching = [0, 1, 2, 3, 4, 6, 7, 8, 9].map((n) => `${LAB}.2${n}`);
  await expect(gaps).toHaveCount(matching.length);
  expect(await gaps.locator("td:first-child").allTextContents()).toEqual(matching);
  await shot(page, "subnet");

  // Mark one host out of scope: the numbers change at once.
  const printer = `${LAB}.20`;
  await page.getByLabel(`Select ${printer}`).check();
  await page.getByLabel("Action").selectOption("out-of-scope");
  await page.getByLabel("Reason").fill("label printer, no agent possible");
  await page.getByTestId("bulk-apply").click();
  await expect(page.getByRole("status")).toHaveText("Override saved for 1 host.");
  await expect(page.getByTestId("count-unprotected")).toHaveText("11");
  await expect(page.getByTestId("compliance")).toHaveText("26.7 %");
  await expect(gaps).toHaveCount(matching.length - 1);

  // The CSV holds exactly the filtered list.
  const href = await page.getByTestId("export-csv").getAttribute("href");
  expect(href).toContain(`q=${LAB}.2`);
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-disposition"]).toContain("attachment");
  const lines = (await csv.text()).trim().split("\r\n");
  expect(lines[0]).toBe("address,dns_name,verdict,device_class,remediation,ports");
  expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(matching.filter((a) => a !== printer));

  // The host page shows the evidence and the decision.
  await page.goto(`/hosts/${printer}`);
  await hydrated(page);
  await expect(page.getByTestId("host-verdict")).toHaveText("Out of scope");
  await expect(page.getByTestId("host-ports")).toContainText("2967");
  await expect(page.getByTestId("host-ports")).toContainText("closed");
  await expect(page.getByTestId("override-history")).toContainText("label printer, no agent possible");
  await expect(page.getByTestId("host-timeline").locator("tbody tr")).toHaveCount(1);
  await shot(page, "host");

  expect(problems).toEqual([]);
});
