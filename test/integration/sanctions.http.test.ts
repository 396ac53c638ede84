/**
 * Sanctions screening of onboarding applications over HTTP, against the service as it runs (hardhat
 * node over JSON-RPC, a fresh SQLite or PostgreSQL database, the default shipped UN sample list):
 * a listed name spelled with look-alike characters is rejected as a match, exactly as the plain
 * spelling is, and a legal name that mixes scripts waits for a compliance officer.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import request from "supertest";
import { signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { freshUscc } from "../support/entity-ids";

interface Check {
  code: string;
  result: string;
  reason: string;
}

describe("Sanctions screening of applications against look-alike names (HTTP)", function () {
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  /** Submits a complete application under `legalName` from a new applicant; returns the stored view. */
  async function applyAs(legalName: string): Promise<{ status: string; screeningResult: string; checks: Check[]; decisionReason: string | null }> {
    const wallet = Wallet.createRandom() as unknown as Wallet;
    const token = await signIn(svc.url, wallet);
    const res = await request(svc.url)
      .post("/onboarding/applications")
      .set({ Authorization: `Bearer ${token}` })
      .field("legalName", legalName)
      .field("entityIdType", "USCC")
      .field("entityId", freshUscc())
      .field("jurisdiction", "CN")
      .field("roles", "supplier")
      .attach("documents", Buffer.from("business licence scan"), "licence.pdf")
      .expect(201);
    const stored = await request(svc.url).get(`/onboarding/applications/${res.body.id}`).set({ Authorization: `Bearer ${token}` }).expect(200);
    expect(stored.body.legalName).to.equal(legalName);
    return stored.body;
  }

  const check = (checks: Check[], code: string) => checks.find((c) => c.code === code)!;

  const spaced = (name: string, between: string) => [...name].join(between);
  const NULLPORT = { reference: "XXe.002", listed: "NULLPORT MARITIME LOGISTICS LLC" };
  // Each disguised spelling below gets past a screen that only transliterates and compares spellings.
  const VARIANTS: Array<[string, string, { reference: string; listed: string }]> = [
    ["nothing disguised", "Nullport Maritime Logistics LLC", NULLPORT],
    ["one Cyrillic letter (х for x)", "Korvale\u0445", { reference: "XXe.004", listed: "KORVALEX" }],
    ["a zero-width space after every character", spaced("Hongxu Trading Company Limited", "\u200B"), { reference: "XXe.001", listed: "HONGXU TRADING COMPANY LIMITED" }],
    ["digits for letters (1 for l and I, 0 for O)", "Nu11port Mar1t1me L0gistics LLC", NULLPORT],
    ["small capitals", "\u0274\u1D1C\u029F\u029F\u1D18\u1D0F\u0280\u1D1B \u1D0D\u1D00\u0280\u026A\u1D1B\u026A\u1D0D\u1D07 \u029F\u1D0F\u0262\u026A\uA731\u1D1B\u026A\u1D04\uA731", NULLPORT],
    ["reordered words with a Cyrillic letter, a digit and a zero-width space", "Logistics Mar1time Null\u0440\u200Bort", NULLPORT],
  ];

  for (const [what, legalName, entry] of VARIANTS) {
    it(`rejects a sanctioned name written with ${what}, citing the listed entry`, async function () {
      const app = await applyAs(legalName);
      expect(app.status, JSON.stringify(app)).to.equal("rejected");
      expect(app.screeningResult).to.equal("fail");
      const s = check(app.checks, "SANCTIONS_SCREENING");
      expect(s.result).to.equal("fail");
      expect(s.reason).to.include(`matches sanctions list entry ${entry.reference} "${entry.listed}"`);
      expect(app.decisionReason).to.match(/SANCTIONS_SCREENING/);
    });
  }

  it("sends a legal name that mixes Latin and Cyrillic letters to review, naming the rule and the scripts", async function () {
    const app = await applyAs("Ningbo Ex\u0430mple Components Co., Ltd.");
    expect(app.status).to.equal("needs_review");
    expect(app.screeningResult).to.equal("review");
    expect(check(app.checks, "SANCTIONS_SCREENING").result).to.equal("pass");
    const mixed = check(app.checks, "LEGAL_NAME_SINGLE_SCRIPT");
    expect(mixed.result).to.equal("review");
    expect(mixed.reason).to.match(/mixes the scripts Cyrillic, Latin/);
  });

  it("lets a plain real name through on both rules", async function () {
    const app = await applyAs("Ningbo Example Components Co., Ltd.");
    expect(app).to.include({ status: "submitted", screeningResult: "pass" });
    expect(check(app.checks, "LEGAL_NAME_SINGLE_SCRIPT").result).to.equal("pass");
  });
});
