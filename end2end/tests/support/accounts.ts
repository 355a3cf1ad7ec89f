// The accounts every e2e run has: one per role, made by global-setup.ts with
// the real `avsweep user add` command against the run's data directory.
export type Role = "admin" | "helpdesk" | "manager";

export const ROLES: Role[] = ["admin", "helpdesk", "manager"];
export const E2E_PASSWORD = "e2e password 12345";

export function usernameFor(role: Role): string {
  return `e2e-${role}`;
}
