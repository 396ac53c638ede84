import { expect } from "chai";
import { checkLedgerVersion, LEDGER_VERSION, LedgerVersionError, UPGRADABLE_FROM, type DeploymentRecord } from "../../services/src/chain/deployment";

const record = (ledgerVersion?: number): DeploymentRecord => ({
  ...(ledgerVersion === undefined ? {} : { ledgerVersion }),
  chainId: "31337",
  deployedAt: "2026-01-01T00:00:00.000Z",
  blockNumber: 1,
  roles: { admin: "0x1", onboardingOperator: "0x2", complianceOfficer: "0x3", issuer: "0x4" },
  params: { tokenName: "t", tokenSymbol: "T", minDenomination: "1", gracePeriod: "1", adminDelay: "1" },
  contracts: { ParticipantRegistry: "0x5", SettlementToken: "0x6", Receivables: "0x7", Financing: "0x8" },
});

describe("chain/deployment: ledger version", () => {
  it("accepts a deployment of this version", () => {
    expect(() => checkLedgerVersion(record(LEDGER_VERSION), "d.json")).to.not.throw();
  });

  it("refuses an earlier version of the embedded platform, naming both versions and the upgrade command for its data directory", () => {
    let err: unknown;
    try {
      checkLedgerVersion(record(1), "data/deployment.json", { dataDir: "data" });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LedgerVersionError);
    expect((err as LedgerVersionError).found).to.equal(1);
    const msg = (err as Error).message;
    expect(msg).to.include("This data directory (data) holds ledger version 1");
    expect(msg).to.include(`runs ledger version ${LEDGER_VERSION}`).and.include("second, empty ledger");
    expect(msg).to.include("`DATA_DIR=data npm run ledger:upgrade`").and.include("It keeps everything");
    expect(msg).to.not.include("data-v");
  });

  it("refuses an earlier version of an external deployment, naming the upgrade command with its deployment file", () => {
    let err: unknown;
    try {
      checkLedgerVersion(record(1), "/etc/scf/deployment.json");
    } catch (e) {
      err = e;
    }
    const msg = (err as Error).message;
    expect(msg).to.include("The deployment /etc/scf/deployment.json holds ledger version 1");
    expect(msg).to.include("DEPLOYMENT_FILE=/etc/scf/deployment.json").and.include("ADMIN_KEYSTORE=").and.include("npm run ledger:upgrade");
  });

  it("refuses an earlier version no upgrade carries, naming no upgrade command but the ways out", function () {
    // Every earlier version the upgrade does not carry, and 0 (no such version: a hand-edited record).
    const between = Array.from({ length: LEDGER_VERSION - 1 }, (_, i) => i + 1).filter((v) => !UPGRADABLE_FROM.includes(v));
    for (const v of [0, ...between]) {
      let msg = "";
      try {
        checkLedgerVersion(record(v), "data/deployment.json", { dataDir: "data" });
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).to.include(`holds ledger version ${v}`).and.include(`No upgrade from version ${v} is built`);
      expect(msg).to.include(`DATA_DIR=data-v${LEDGER_VERSION} npm start`).and.not.include("DATA_DIR=data npm run ledger:upgrade");
    }
  });

  it("reads a record without the field as version 1", () => {
    const version: number = LEDGER_VERSION;
    if (version === 1) expect(() => checkLedgerVersion(record(), "d.json")).to.not.throw();
    else expect(() => checkLedgerVersion(record(), "d.json")).to.throw(LedgerVersionError, "ledger version 1");
  });

  it("refuses a newer version: this software is the one to upgrade", () => {
    expect(() => checkLedgerVersion(record(LEDGER_VERSION + 1), "d.json")).to.throw(LedgerVersionError, "upgrade this software");
  });
});
