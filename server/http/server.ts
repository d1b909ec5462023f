/**
 * One server process: Node's HTTP server answering /api/trpc with tRPC (server/http/api.ts) and everything else
 * (pages, assets, /api/health) with Next's request handler, on one port. Every answer names the process that
 * served it (`X-Served-By`), so a trainee or a test can see which of several processes answered.
 */
import { createServer, type Server } from "node:http";
import type { AnyTRPCRouter } from "@trpc/server";
import next from "next";
import { apiOf, apiPath } from "./api";
import { servedBy, servedByHeader } from "./served-by";

function isApiRequest(url: string | undefined): boolean {
  return url !== undefined && (url.startsWith(`${apiPath}/`) || url === apiPath || url.startsWith(`${apiPath}?`));
}

export async function startServer(options: {
  port: number;
  hostname?: string;
  dev: boolean;
  router: AnyTRPCRouter;
}): Promise<Server> {
  const { serveApi } = apiOf(options.router);
  const app = next({ dev: options.dev, hostname: options.hostname, port: options.port });
  await app.prepare();
  const handlePage = app.getRequestHandler();
  const server = createServer((req, res) => {
    res.setHeader(servedByHeader, servedBy);
    const answered = isApiRequest(req.url) ? serveApi(req, res) : handlePage(req, res);
    answered.catch((error: unknown) => {
      console.error(`${req.method} ${req.url} failed:`, error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("Something went wrong on our side. Try again.");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  return server;
}
