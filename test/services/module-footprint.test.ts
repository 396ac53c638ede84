import { execFileSync } from "node:child_process";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../platform/project-root";

/**
 * What a service process keeps loaded when it does not need it (docs/DEPLOYMENT.md, memory): the
 * PostgreSQL driver on SQLite, the Redis client without REDIS_URL, and the Unicode name tables once
 * the small-capital table is built. Checked in a fresh process (this one's module cache holds
 * whatever other tests loaded): it loads the whole application module graph, folds small capitals,
 * builds the SQLite data-source options and the in-memory rate-limit store, and lists the packages
 * left in its module cache.
 */
function packagesLoadedBy(script: string): string[] {
  const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-r", "reflect-metadata", "-e", script], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!) as string[];
}

const LIST_PACKAGES = `
  const names = new Set();
  for (const k of Object.keys(require.cache)) {
    const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\/(?!.*node_modules)/.exec(k);
    if (m) names.add(m[1]);
  }
  console.log(JSON.stringify([...names]));
`;

describe("service module footprint", function () {
  this.timeout(180_000);

  it("loads neither pg, ioredis nor unicode-name's tables in an embedded (SQLite, no Redis) service", () => {
    const loaded = packagesLoadedBy(`
      require("./services/src/app.module");
      const { foldSmallCapitals } = require("./shared/unicode");
      if (foldSmallCapitals("\\u1D0B\\u1D0F\\u0280") !== "KOR") throw new Error("small capitals not folded");
      const { dataSourceOptions } = require("./services/src/database/data-source");
      dataSourceOptions({ kind: "sqlite", path: ":memory:" });
      if (require("./services/src/auth/auth.throttle").throttlerStorage({}) !== undefined) throw new Error("a store without REDIS_URL");
      ${LIST_PACKAGES}
    `);
    expect(loaded).to.include("@nestjs/core").and.include("typeorm").and.include("ethers");
    expect(loaded).to.not.include("pg");
    expect(loaded).to.not.include("ioredis");
    expect(loaded).to.not.include("@nest-lab/throttler-storage-redis");
    expect(loaded).to.not.include("unicode-name");
  });

  it("loads pg for a PostgreSQL database and the Redis store for REDIS_URL, when asked", () => {
    const loaded = packagesLoadedBy(`
      const { dataSourceOptions } = require("./services/src/database/data-source");
      const pgOptions = dataSourceOptions({ kind: "postgres", url: "postgres://nobody@127.0.0.1:1/none" });
      if (typeof pgOptions.driver.Pool !== "function") throw new Error("no pool class");
      const { throttlerStorage, isRedisStorage } = require("./services/src/auth/auth.throttle");
      const store = throttlerStorage({ REDIS_URL: "redis://127.0.0.1:1" });
      if (!isRedisStorage(store)) throw new Error("not the Redis store");
      store.redis.disconnect();
      ${LIST_PACKAGES}
    `);
    expect(loaded).to.include("pg").and.include("ioredis").and.include("@nest-lab/throttler-storage-redis");
  });
});
