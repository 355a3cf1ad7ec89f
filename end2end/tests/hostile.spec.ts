import { test, expect, type Page } from "@playwright/test";
import { signIn } from "./support/auth";
import { useLab } from "./support/lab";
import { failOnConsoleErrors, hydrated, shot } from "./support/page";

// Hostile text from the network must stay text in the hydrated app: banners
// that lab listeners send, and host names an imported nmap file claims.
// A dialog listener catches any alert() that runs; a console listener
// catches CSP violations and hydration errors.
const LAB = process.env.AVSWEEP_E2E_LAB ?? "127.77.0";
const SUBNET = `${LAB}.64/28`;
const SCRIPT = "<script>alert(1)</script>";
const IMG = '"><img src=x onerror=alert(1)>';
const BANNERS: Record<string, string> = {
  [`${LAB}.65`]: SCRIPT,
  [`${LAB}.66`]: IMG,
};

const lab = useLab();
test.beforeAll(async () => {
  // Port 8081 is the McAfee Agent profile's: avsweep reads its banner.
  for (const [host, banner] of Object.entries(BANNERS)) {
    await lab.listen(8081, host, `HTTP/1.0 200 OK\r\nServer: ${banner}\r\n\r\n`);
  }
});

/** Console problems, and every alert() that ran (an XSS that worked). */
function watch(page: Page) {
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  return { problems: failOnConsoleErrors(page), dialogs };
}

function nmapXml(hosts: { address: string; name: string }[]): string {
  const escape = (text: string) =>
    text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const body = hosts
    .map(
      ({ address, name }) => `<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="${address}" addrtype="ipv4"/>
<hostnames><hostname name="${escape(name)}" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="2967"><state state="closed" reason="conn-refused" reason_ttl="0"/></port></ports>
</host>`,
    )
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sT -Pn -p 2967 -oX - ${SUBNET}" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="1" services="2967"/>
${body}
<host><status state="up" reason="user-set" reason_ttl="0"/><address addr="192.0.2.1" addrtype="ipv4"/></host>
</nmaprun>`;
}

test("hostile banners and host names render as inert text", async ({ page }) => {
  await signIn(page, "admin");
  const { problems, dialogs } = watch(page);
  await page.goto("/subnets/new");
  await hydrated(page);
  await page.getByLabel("Subnet (CIDR)").fill(SUBNET);
  await page.getByLabel("Name").fill("Hostile lab");
  await page.getByRole("button", { name: "Add subnet" }).click();
  await expect(page.getByRole("heading", { name: "Hostile lab" })).toBeVisible();
  await hydrated(page);
  const subnetId = page.url().split("/").pop();

  // 1. Banners, from a real scan of listeners that send them.
  await page.getByTestId("scan-now").click();
  await expect(page.getByTestId("gap-list")).toBeVisible({ timeout: 60_000 });
  const rows = page.getByTestId("gap-list").locator("tbody tr");
  await expect(rows.filter({ hasText: `${LAB}.65` })).toContainText(SCRIPT);
  await expect(rows.filter({ hasText: `${LAB}.66` })).toContainText(IMG);
  await expect(page.locator("img[src=x]")).toHaveCount(0);
  await expect(page.locator("main script")).toHaveCount(0);

  // 2. Host names, from an imported nmap file (one host outside the subnet is ignored).
  const upload = await page.request.post(`/api/import?subnet_id=${subnetId}`, {
    // Sent from the page's own origin, as the upload form would be (CSRF check).
    headers: { "content-type": "application/xml", origin: new URL(page.url()).origin },
    data: nmapXml([
      { address: `${LAB}.67`, name: `${SCRIPT}.example` },
      { address: `${LAB}.68`, name: `${IMG}.example` },
    ]),
  });
  expect(upload.status()).toBe(200);
  const answer = await upload.json();
  expect(answer.imported).toBe(2);
  expect(answer.outside_subnet).toBe(1);

  await page.reload();
  await hydrated(page);
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: `${LAB}.67` }).locator(".host-name")).toHaveText(`${SCRIPT}.example`);
  await expect(rows.filter({ hasText: `${LAB}.68` }).locator(".host-name")).toHaveText(`${IMG}.example`);
  await expect(page.locator("img[src=x]")).toHaveCount(0);

  // Client-side navigation renders the same data through the hydrated app.
  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("link", { name: /Hostile lab/ }).first().click();
  await expect(rows.filter({ hasText: `${LAB}.67` }).locator(".host-name")).toHaveText(`${SCRIPT}.example`);

  expect(dialogs).toEqual([]);
  expect(problems).toEqual([]);
});

test("pages run under a nonce CSP without violations", async ({ page }) => {
  await signIn(page, "manager");
  const { problems } = watch(page);
  const response = await page.goto("/profiles");
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  const scriptSrc = csp.split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src")) ?? "";
  expect(scriptSrc).toMatch(/'nonce-[A-Za-z0-9_-]{16,}'/);
  expect(scriptSrc).not.toContain("unsafe-inline");
  await hydrated(page);
  expect(problems).toEqual([]);
});
