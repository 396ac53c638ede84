/**
 * Compliance over the real application (hardhat node over JSON-RPC, fresh database, the app on a
 * loopback port). Checks are created through ComplianceService and read back through the
 * controller as resolved by the running app.
 *
 * What this test does NOT do: read the checks over HTTP as a signed-in compliance officer. Signing
 * in belongs to the auth module, written in parallel; to stay independent of it, the HTTP side is
 * limited to (a) the route's declared access (@RequireRoles("compliance", "auditor")), (b) anonymous
 * callers being refused with 401 when AuthModule installs its global guard — or, while AuthModule
 * is still a placeholder without a guard, the route answering without one, asserted as such — and
 * (c) the OpenAPI description. The query validation is checked with the same ValidationPipe
 * settings as app.factory.ts.
 */
import { APP_GUARD } from "@nestjs/core";
import { BadRequestException, ValidationPipe, type Provider } from "@nestjs/common";
import { expect } from "chai";
import request from "supertest";
import { AuthModule } from "../../services/src/auth/auth.module";
import { REQUIRED_ROLES } from "../../services/src/auth/auth.decorators";
import { ComplianceController } from "../../services/src/compliance/compliance.controller";
import { ComplianceService } from "../../services/src/compliance/compliance.service";
import { ListChecksQueryDto } from "../../services/src/compliance/dto/list-checks-query.dto";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";

/** Whether AuthModule registers a global guard (it does once the auth work has landed). */
function authGuardInstalled(): boolean {
  const providers = (Reflect.getMetadata("providers", AuthModule) ?? []) as Provider[];
  return providers.some((p) => typeof p === "object" && p !== null && "provide" in p && p.provide === APP_GUARD);
}

const appPipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false });

describe("Compliance over the running service (hardhat node, real database)", function () {
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let compliance: ComplianceService;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    compliance = svc.app.get(ComplianceService);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  it("screens with the sanctions list loaded at boot", function () {
    expect(compliance.screenName("Hong Xu Mao Yi Co., Ltd.")[0]).to.include({ reference: "XXe.001", result: "fail" });
    expect(compliance.screenName("Nowhere Paper Mills")).to.deep.equal([]);
  });

  it("serves a subject's stored checks through the controller, newest run first, with ISO times", async function () {
    const id = "3f0c2a4e-0000-4000-8000-000000000001";
    const first = await compliance.screenApplication(null, {
      id,
      legalName: "Nowhere Paper Mills Co., Ltd.",
      entityId: "91330106MA2CHK7T11",
      entityIdType: "USCC",
      jurisdiction: "CN",
      requestedRoles: 1,
      documentCount: 0,
    });
    const second = await compliance.screenApplication(null, {
      id,
      legalName: "Nowhere Paper Mills Co., Ltd.",
      entityId: "91330106MA2CHK7T11",
      entityIdType: "USCC",
      jurisdiction: "CN",
      requestedRoles: 1,
      documentCount: 2,
    });
    expect(first.overall).to.equal("fail");
    expect(second.overall).to.equal("pass");

    const controller = svc.app.get(ComplianceController);
    const query = (await appPipe.transform({ subject: `application:${id}` }, { type: "query", metatype: ListChecksQueryDto })) as ListChecksQueryDto;
    const body = JSON.parse(JSON.stringify(await controller.list(query))) as Array<Record<string, unknown>>;
    const perRun = second.outcomes.length;
    expect(body).to.have.length(2 * perRun);
    expect(body.slice(0, perRun).every((c) => c.runId === second.runId)).to.equal(true);
    expect(body.slice(perRun).every((c) => c.runId === first.runId)).to.equal(true);
    expect(body.slice(0, perRun).map((c) => c.code)).to.deep.equal(second.outcomes.map((o) => o.code));
    const docs = body.find((c) => c.runId === first.runId && c.code === "KYC_DOCUMENTS_PRESENT")!;
    expect(docs).to.include({ result: "fail", subjectType: "application", subjectId: id });
    expect(docs.reason).to.match(/No KYC document is attached/);
    expect(docs.details).to.deep.equal({ documentCount: 0 });
    for (const c of body) {
      expect(c).to.have.all.keys("runId", "subjectType", "subjectId", "code", "result", "reason", "details", "createdAt");
      expect(new Date(c.createdAt as string).toISOString()).to.equal(c.createdAt);
    }
  });

  it("rejects a malformed subject with 400, by the query DTO and by the service", async function () {
    for (const subject of ["application", "receivable:0x01", "member:", "member:has space"]) {
      const err = await appPipe.transform({ subject }, { type: "query", metatype: ListChecksQueryDto }).catch((e: unknown) => e);
      expect(err, subject).to.be.instanceOf(BadRequestException);
      expect(JSON.stringify((err as BadRequestException).getResponse())).to.match(/subject must be/);
      const direct = await compliance.checksOf(subject).catch((e: unknown) => e);
      expect(direct, subject).to.be.instanceOf(BadRequestException);
    }
    const extra = await appPipe.transform({ subject: "member:0x01", limit: "5" }, { type: "query", metatype: ListChecksQueryDto }).catch((e: unknown) => e);
    expect(extra).to.be.instanceOf(BadRequestException);
  });

  it("declares the route for compliance officers and auditors only", function () {
    expect(Reflect.getMetadata(REQUIRED_ROLES, ComplianceController.prototype.list)).to.deep.equal(["compliance", "auditor"]);
  });

  if (authGuardInstalled()) {
    it("refuses an anonymous caller with 401 (AuthModule's global guard)", async function () {
      await request(svc.url).get("/compliance/checks").query({ subject: "member:0x01" }).expect(401);
      await request(svc.url).get("/compliance/checks").query({ subject: "not-a-subject" }).expect(401);
    });
  } else {
    it("answers without a guard while AuthModule is a placeholder (access control not installed yet)", async function () {
      await request(svc.url).get("/compliance/checks").query({ subject: "member:0x01" }).expect(200, []);
      await request(svc.url).get("/compliance/checks").query({ subject: "not-a-subject" }).expect(400);
    });
  }

  it("describes the route and its response in the OpenAPI document", async function () {
    const res = await request(svc.url).get("/docs-json").expect(200);
    const op = res.body.paths["/compliance/checks"].get;
    expect(op.parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required])).to.deep.equal([
      ["subject", "query", true],
    ]);
    expect(op.responses["200"].content["application/json"].schema).to.deep.equal({
      type: "array",
      items: { $ref: "#/components/schemas/ComplianceCheckResponseDto" },
    });
    const schema = res.body.components.schemas.ComplianceCheckResponseDto;
    expect(Object.keys(schema.properties)).to.have.members(["runId", "subjectType", "subjectId", "code", "result", "reason", "details", "createdAt"]);
    for (const p of Object.values(schema.properties) as Array<{ description?: string }>) expect(p.description).to.be.a("string").and.not.equal("");
  });
});
