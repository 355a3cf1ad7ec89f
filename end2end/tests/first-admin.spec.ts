import { test, expect } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { failOnConsoleErrors, hydrated, shot } from "./support/page";

// A brand-new install: its own server on an empty data directory (no account
// at all). The server prints a one-time setup link; a person opens it,
// creates the first admin and is signed in. The link then works no more.

const root = path.resolve(__dirname, "..", "..");
const port = Number(process.env.AVSWEEP_E2E_SETUP_PORT ?? "3117");
let server: ChildProcess | undefined;
let setupLink = "";

test.beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "avsweep-first-run-"));
  server = spawn(`${root}/target/debug/avsweep`, ["serve"], {
    cwd: root,
    env: {
      ...process.env,
      AVSWEEP_ADDR: `127.0.0.1:${port}`,
      AVSWEEP_DATA_DIR: dataDir,
      DATABASE_URL: "",
      LEPTOS_SITE_ROOT: `${root}/target/site`,
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  setupLink = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no setup link within 60 s; output:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = output.match(/http:\/\/127\.0\.0\.1:\d+\/setup\?token=[0-9a-f]+/);
      if (found) {
        clearTimeout(timer);
        resolve(found[0]);
      }
    };
    server?.stdout?.on("data", read);
    server?.stderr?.on("data", read);
    server?.on("exit", (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
  // Served once the link is printed? Wait for health to be sure.
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
});

test.afterAll(() => {
  server?.kill("SIGTERM");
});

test("the setup link creates the first admin, signs them in, and works only once", async ({ page }) => {
  const problems = failOnConsoleErrors(page);
  expect(setupLink).toMatch(/\/setup\?token=/);

  // Without an admin, signing in is impossible; the link is the way in.
  await page.goto(setupLink);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Create the first admin" })).toBeVisible();
  await shot(page, "first-admin-setup");

  // A mistake keeps the link usable and says what to fix.
  await page.getByLabel("Username").fill("first-admin");
  await page.getByLabel("Password", { exact: true }).fill("a long first passphrase");
  await page.getByLabel("Password again").fill("a different passphrase");
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page.getByTestId("setup-error")).toContainText("The two passwords differ");

  await page.getByLabel("Username").fill("first-admin");
  await page.getByLabel("Password", { exact: true }).fill("a long first passphrase");
  await page.getByLabel("Password again").fill("a long first passphrase");
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`127\\.0\\.0\\.1:${port}/$`));
  await expect(page.getByTestId("account")).toContainText("first-admin");
  // An admin sees the admin navigation.
  await expect(page.getByRole("link", { name: "Users" })).toBeVisible();

  // The link is spent: a second use (another browser) is refused.
  const other = await page.context().browser()!.newContext();
  const second = await other.newPage();
  await second.goto(setupLink);
  await second.getByLabel("Username").fill("intruder");
  await second.getByLabel("Password", { exact: true }).fill("another long passphrase");
  await second.getByLabel("Password again").fill("another long passphrase");
  await second.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(second.getByTestId("setup-error")).toContainText("has an admin already");
  await expect(second).toHaveURL(/error=closed/);
  await other.close();
  expect(problems).toEqual([]);
});
