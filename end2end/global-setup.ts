import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { E2E_PASSWORD, ROLES, usernameFor } from "./tests/support/accounts";

// One account per role in the run's fresh data directory, made with the real
// command line (`avsweep user add`), so tests sign in like people do.
export default function globalSetup() {
  const root = path.resolve(__dirname, "..");
  for (const role of ROLES) {
    execFileSync(
      `${root}/target/debug/avsweep`,
      ["user", "add", usernameFor(role), "--role", role],
      {
        cwd: root,
        stdio: ["ignore", "inherit", "inherit"],
        env: {
          ...process.env,
          AVSWEEP_DATA_DIR: process.env.AVSWEEP_E2E_DATA,
          DATABASE_URL: "",
          AVSWEEP_NEW_PASSWORD: E2E_PASSWORD,
          RUST_LOG: "warn",
        },
      },
    );
  }
}
