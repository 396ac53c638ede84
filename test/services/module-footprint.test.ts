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

/** Our own modules in the module cache, relative to the project (forward slashes, no extension). */
const LIST_OURS = `
  const root = ${JSON.stringify(PROJECT_ROOT + "/")};
  console.log(JSON.stringify(Object.keys(require.cache)
    .filter((k) => k.startsWith(root) && !k.includes("/node_modules/"))
    .map((k) => k.slice(root.length).replace(/\\.(ts|js)$/, ""))));
`;

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

  it("loads the four ledger contracts' TypeChain factories alone, not the typechain-types index (every factory, test contracts' bytecode included)", () => {
    const ours = packagesLoadedBy(`
      require("./services/src/app.module");
      const { connectLedger, RECEIVABLES_INTERFACE } = require("./services/src/chain/ledger-abi");
      const c = connectLedger({ ParticipantRegistry: "0x${"1".repeat(40)}", SettlementToken: "0x${"2".repeat(40)}", Receivables: "0x${"3".repeat(40)}", Financing: "0x${"4".repeat(40)}" }, null);
      if (c.receivables.interface !== RECEIVABLES_INTERFACE) throw new Error("a second Receivables interface");
      ${LIST_OURS}
    `);
    const typechain = ours.filter((m) => m.startsWith("typechain-types/")).sort();
    expect(typechain).to.deep.equal([
      "typechain-types/factories/contracts/financing/Financing__factory",
      "typechain-types/factories/contracts/receivables/Receivables__factory",
      "typechain-types/factories/contracts/registry/ParticipantRegistry__factory",
      "typechain-types/factories/contracts/settlement/SettlementToken__factory",
    ]);
  });

  it("loads one copy of the MIME database (express 5's packages and multer's type-is each had their own: package.json overrides)", () => {
    const ours = packagesLoadedBy(`
      require("./services/src/app.factory");
      require("@nestjs/platform-express");
      require("multer");
      console.log(JSON.stringify(Object.keys(require.cache).filter((k) => /\\/mime-db\\/db\\.json$/.test(k))));
    `);
    expect(ours).to.have.length(1);
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
