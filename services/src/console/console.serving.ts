/**
 * The web console (console/, a React single-page app built by `npm install` into console/dist) is
 * served by the service at `/`: its hashed assets as static files, and index.html for `/` and for
 * any other browser navigation that no API route answers (the API's routes, and its JSON 404s for
 * API clients, are unchanged). Without a build the service still starts, and `/` says how to build.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from "@nestjs/common";
import type { NestExpressApplication } from "@nestjs/platform-express";
import type { Request, Response } from "express";

/** console/dist next to the repository's console/ sources, from wherever this file runs (ts-node or compiled). */
export function consoleDist(from = __dirname): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "console", "vite.config.mts"))) return join(dir, "console", "dist");
    dir = resolve(dir, "..");
  }
  return resolve(from, "..", "..", "..", "console", "dist");
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SCF Ledger console not built</title></head>
<body><h1>The web console is not built</h1>
<p>Build it from the repository with <code>npm run build:console</code> (<code>npm install</code> does it too), then reload this page.
The API is unaffected: see <a href="/docs">/docs</a>.</p></body></html>`;

/** Static assets under /assets (content-hashed names: cached for a year) and the fallback filter below. */
export function serveConsole(app: NestExpressApplication, dist = consoleDist()): ConsoleFallback {
  if (existsSync(dist)) app.useStaticAssets(join(dist, "assets"), { prefix: "/assets/", index: false, immutable: true, maxAge: "365d", fallthrough: true });
  return new ConsoleFallback(dist);
}

/**
 * Answers a browser navigation that matched no route (GET or HEAD, HTML preferred over
 * JSON, or `/` itself) with the console's index.html; everything else goes to the API's own filter.
 */
export class ConsoleFallback {
  constructor(private readonly dist: string) {}

  /** The page for this request, or null when the API's problem document should answer. */
  pageFor(exception: unknown, req: Request): { status: number; html: string } | null {
    // Nest's own answer when no route matched (as problem.filter.ts recognises it): `req.route` is
    // no help, app-wide middleware routes set it on every request.
    if (!(exception instanceof HttpException) || exception.getStatus() !== 404) return null;
    if (exception.message !== `Cannot ${req.method} ${req.originalUrl ?? req.url}`) return null;
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    if (req.path !== "/" && req.accepts(["json", "html"]) !== "html") return null;
    if (req.path.startsWith("/assets/")) return null;
    const index = join(this.dist, "index.html");
    return existsSync(index) ? { status: 200, html: readFileSync(index, "utf8") } : { status: 404, html: NOT_BUILT };
  }

  /** Wraps the API's filter so unmatched browser navigations get the console. */
  around(inner: ExceptionFilter): ExceptionFilter {
    const pageFor = (e: unknown, req: Request) => this.pageFor(e, req);
    @Catch()
    class ConsoleOrProblem implements ExceptionFilter {
      catch(exception: unknown, host: ArgumentsHost) {
        const http = host.switchToHttp();
        const page = pageFor(exception, http.getRequest<Request>());
        if (!page) return inner.catch(exception, host);
        http.getResponse<Response>().status(page.status).type("html").setHeader("cache-control", "no-cache").send(page.html);
      }
    }
    return new ConsoleOrProblem();
  }
}
