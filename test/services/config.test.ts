import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ConfigError, DEVELOPMENT_FINGERPRINT_SALT, EXAMPLE_KEYSTORE_PASSWORD, loadConfig } from "../../services/src/config/env";
import { dataSourceOptions } from "../../services/src/database/data-source";

describe("loadConfig", function () {
  it("gives the embedded defaults with an empty environment", function () {
    const c = loadConfig({}, "/srv/app");
    expect(c.PORT).to.equal(3000);
    expect(c.database).to.deep.equal({ kind: "sqlite", path: "/srv/app/data/ledger.sqlite" });
    expect(c.paths.deployment).to.equal("/srv/app/deployments/localhost.json");
    expect(c.ALLOWED_JURISDICTIONS).to.deep.equal(["CN", "HK", "MO", "SG"]);
  });

  it("selects PostgreSQL from a postgres:// URL", function () {
    const c = loadConfig({ DATABASE_URL: "postgres://u:p@db:5432/scf" });
    expect(c.database).to.deep.equal({ kind: "postgres", url: "postgres://u:p@db:5432/scf", poolMax: 10 });
  });

  it("sizes the PostgreSQL pool from DB_POOL_MAX (default 10) and refuses 0", function () {
    const c = loadConfig({ DATABASE_URL: "postgres://u:p@db:5432/scf", DB_POOL_MAX: "4" });
    expect(c.database).to.deep.include({ poolMax: 4 });
    expect((dataSourceOptions(c.database) as { extra?: { max?: number } }).extra?.max).to.equal(4);
    expect(() => loadConfig({ DB_POOL_MAX: "0" })).to.throw(ConfigError, /DB_POOL_MAX/);
  });

  it("names every invalid variable at once", function () {
    let err: unknown;
    try {
      loadConfig({ PORT: "70000", RPC_URL: "not a url", DATABASE_URL: "mysql://x", CONFIRMATIONS: "-1", KEYSTORE_PASSWORD: "short" });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    for (const name of ["PORT", "RPC_URL", "DATABASE_URL", "CONFIRMATIONS", "KEYSTORE_PASSWORD"]) {
      expect(problems).to.include(name);
    }
  });

  it("refuses a review threshold above the match threshold", function () {
    expect(() => loadConfig({ SANCTIONS_MATCH_THRESHOLD: "0.8", SANCTIONS_REVIEW_THRESHOLD: "0.9" })).to.throw(
      ConfigError,
      /SANCTIONS_REVIEW_THRESHOLD/,
    );
  });

  it("parses booleans and jurisdiction lists strictly", function () {
    expect(loadConfig({ INDEXER_ENABLED: "false" }).INDEXER_ENABLED).to.equal(false);
    expect(() => loadConfig({ INDEXER_ENABLED: "yes" })).to.throw(ConfigError, /INDEXER_ENABLED/);
    expect(() => loadConfig({ ALLOWED_JURISDICTIONS: "CN,CHN" })).to.throw(ConfigError, /ALLOWED_JURISDICTIONS/);
  });

  it("takes REGISTRATION_GRACE_DAYS as whole days from 0 to 365 (default 30) and refuses anything else", function () {
    expect(loadConfig({}).REGISTRATION_GRACE_DAYS).to.equal(30);
    expect(loadConfig({ REGISTRATION_GRACE_DAYS: "0" }).REGISTRATION_GRACE_DAYS).to.equal(0);
    expect(loadConfig({ REGISTRATION_GRACE_DAYS: "365" }).REGISTRATION_GRACE_DAYS).to.equal(365);
    for (const bad of ["-1", "366", "2.5", "ten"]) {
      expect(() => loadConfig({ REGISTRATION_GRACE_DAYS: bad }), bad).to.throw(ConfigError, /REGISTRATION_GRACE_DAYS/);
    }
  });

  describe("published secrets", function () {
    const secretSalt = "0x" + "ab".repeat(32);

    it("refuses the development salt and the example keystore password in production, naming both", function () {
      for (const salt of [undefined, DEVELOPMENT_FINGERPRINT_SALT, DEVELOPMENT_FINGERPRINT_SALT.toUpperCase().replace("0X", "0x")]) {
        let err: unknown;
        try {
          loadConfig({ NODE_ENV: "production", FINGERPRINT_SALT: salt, KEYSTORE_PASSWORD: EXAMPLE_KEYSTORE_PASSWORD });
        } catch (e) {
          err = e;
        }
        expect(err, String(salt)).to.be.instanceOf(ConfigError);
        const problems = (err as ConfigError).problems;
        expect(problems.some((p) => p.startsWith("FINGERPRINT_SALT:")), problems.join()).to.equal(true);
        expect(problems.some((p) => p.startsWith("KEYSTORE_PASSWORD:")), problems.join()).to.equal(true);
      }
    });

    it("accepts them in development and test (npm start, the test suites), and own secrets in production", function () {
      for (const NODE_ENV of [undefined, "development", "test"]) {
        expect(loadConfig({ NODE_ENV, KEYSTORE_PASSWORD: EXAMPLE_KEYSTORE_PASSWORD }).FINGERPRINT_SALT).to.equal(DEVELOPMENT_FINGERPRINT_SALT);
      }
      const c = loadConfig({ NODE_ENV: "production", FINGERPRINT_SALT: secretSalt, KEYSTORE_PASSWORD: "a-real-secret-password" });
      expect(c.FINGERPRINT_SALT).to.equal(secretSalt);
    });

    it("the service exits 78 at boot in production with the development salt, naming the variable", function () {
      this.timeout(60_000);
      const root = join(__dirname, "..", "..");
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NODE_ENV: "production", KEYSTORE_PASSWORD: "a-real-secret-password" };
      const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", join(root, "services", "src", "main.ts")], {
        cwd: root,
        env,
        encoding: "utf8",
        timeout: 50_000,
      });
      expect(run.status, run.stderr).to.equal(78);
      expect(run.stderr).to.match(/FINGERPRINT_SALT: the published development salt is refused in production/);
    });
  });
});
