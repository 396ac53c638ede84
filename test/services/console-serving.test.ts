/** Which requests get the web console's page instead of the API's problem document (services/src/console). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadRequestException, NotFoundException } from "@nestjs/common";
import { expect } from "chai";
import type { Request } from "express";
import { ConsoleFallback } from "../../services/src/console/console.serving";

function req(method: string, url: string, prefers: "html" | "json"): Request {
  return { method, originalUrl: url, url, path: url.split("?")[0], accepts: () => prefers } as unknown as Request;
}
const notFound = (method: string, url: string) => new NotFoundException(`Cannot ${method} ${url}`);

describe("console serving: the SPA fallback", function () {
  let dist: string;
  before(function () {
    dist = mkdtempSync(join(tmpdir(), "scf-console-dist-"));
    writeFileSync(join(dist, "index.html"), '<div id="root"></div>');
  });
  after(function () {
    rmSync(dist, { recursive: true, force: true });
  });

  it("answers / and unmatched browser navigations with index.html", function () {
    const f = new ConsoleFallback(dist);
    expect(f.pageFor(notFound("GET", "/"), req("GET", "/", "json"))).to.deep.equal({ status: 200, html: '<div id="root"></div>' });
    expect(f.pageFor(notFound("GET", "/auditor/x"), req("GET", "/auditor/x", "html"))?.status).to.equal(200);
  });

  it("leaves API clients, other methods, missing assets and a route's own 404 to the problem document", function () {
    const f = new ConsoleFallback(dist);
    expect(f.pageFor(notFound("GET", "/nope"), req("GET", "/nope", "json"))).to.equal(null);
    expect(f.pageFor(notFound("POST", "/nope"), req("POST", "/nope", "html"))).to.equal(null);
    expect(f.pageFor(notFound("GET", "/assets/x.js"), req("GET", "/assets/x.js", "html"))).to.equal(null);
    expect(f.pageFor(new NotFoundException("No such receivable"), req("GET", "/receivables/0x01", "html"))).to.equal(null);
    expect(f.pageFor(new BadRequestException("bad"), req("GET", "/", "html"))).to.equal(null);
  });

  it("without a build, / says how to build the console", function () {
    const page = new ConsoleFallback(join(dist, "missing")).pageFor(notFound("GET", "/"), req("GET", "/", "html"));
    expect(page?.status).to.equal(404);
    expect(page?.html).to.include("npm run build:console");
  });
});
