import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// One fresh database per run: the server starts on an empty data directory.
process.env.AVSWEEP_E2E_DATA ??= fs.mkdtempSync(path.join(os.tmpdir(), "avsweep-e2e-"));
const port = process.env.AVSWEEP_E2E_PORT ?? "3107";
const root = path.resolve(__dirname, "..");

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 90_000,
  expect: { timeout: 20_000 },
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  outputDir: "output/test-results",
  // The run shares one database: the fresh-install spec runs first, while no
  // subnet exists yet; every other spec after it, one file at a time.
  projects: [
    { name: "fresh-install", testMatch: /fresh-install\.spec\.ts$/ },
    { name: "flows", testIgnore: /fresh-install\.spec\.ts$/, dependencies: ["fresh-install"] },
  ],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium; Playwright's own browser download is never used.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `${root}/target/debug/avsweep serve`,
    cwd: root,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      AVSWEEP_ADDR: `127.0.0.1:${port}`,
      AVSWEEP_DATA_DIR: process.env.AVSWEEP_E2E_DATA,
      DATABASE_URL: "",
      LEPTOS_SITE_ROOT: `${root}/target/site`,
      RUST_LOG: "info,tower_http=warn",
    },
  },
});
