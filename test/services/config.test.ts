import { expect } from "chai";
import { ConfigError, loadConfig } from "../../services/src/config/env";

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
    expect(c.database).to.deep.equal({ kind: "postgres", url: "postgres://u:p@db:5432/scf" });
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
});
