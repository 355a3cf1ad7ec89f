import { test } from "@playwright/test";
import * as net from "node:net";

/**
 * TCP listeners on loopback addresses (127.0.0.0/8 is all this machine), the
 * stand-ins for AV agents. Every listener closes after the spec file.
 *
 *   const lab = useLab();
 *   test.beforeAll(() => lab.listen(2967, "127.77.0.2"));
 */
export function useLab() {
  const listeners: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  test.afterAll(async () => {
    // close() waits for open connections: end any a scanner left half-open.
    for (const socket of sockets) socket.destroy();
    await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
    listeners.length = 0;
  });
  return {
    /** Accepts on host:port, sends `reply` (if any) and closes. */
    async listen(port: number, host: string, reply = ""): Promise<void> {
      const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        // Scanners close with a reset; that is expected, not an error.
        socket.on("error", () => {});
        socket.end(reply);
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
      });
      listeners.push(server);
    },
  };
}
