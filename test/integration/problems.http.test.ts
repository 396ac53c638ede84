/**
 * One error shape: every class of error the API answers (validation, malformed JSON, 401, 403,
 * 404 of a record and of a route, 409, 413, 429, 500, strict boolean flags) is an RFC 9457 problem
 * document, and the OpenAPI document declares every operation's errors with the shared problem
 * schema and the success status its route really answers. Also the security headers.
 * Runs on SQLite and, with TEST_DATABASE=postgres, on PostgreSQL.
 */
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { Wallet, id as keccakId } from "ethers";
import request from "supertest";
import { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { RequestMethod, type Type } from "@nestjs/common";
import { HTTP_CODE_METADATA, INTERCEPTORS_METADATA, METHOD_METADATA, ROUTE_ARGS_METADATA } from "@nestjs/common/constants";
import { RouteParamtypes } from "@nestjs/common/enums/route-paramtypes.enum";
import { ModulesContainer } from "@nestjs/core";
import { Logger as PinoLogger } from "nestjs-pino";
import { ActAnswerInterceptor } from "../../services/src/acts/signed-act.decorator";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { ApplicationEntity } from "../../services/src/onboarding/entities/application.entity";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from "../../services/src/common/problem-details";
import { signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { freshUscc } from "../support/entity-ids";
import { ROLE_BITS } from "../../shared/roles";

type Member = keyof typeof ROLE_BITS;

/** Asserts the RFC 9457 shape and returns the body. */
function expectProblem(res: request.Response, status: number, code: string, instance?: string): Record<string, unknown> {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers["content-type"]).to.match(new RegExp(`^${PROBLEM_CONTENT_TYPE.replace("+", "\\+")}`));
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).to.include({ type: PROBLEM_TYPE_PREFIX + code, status, code });
  expect(body.title).to.be.a("string").and.not.equal("");
  expect(body.detail).to.be.a("string").and.not.equal("");
  expect(body.message, "message repeats detail").to.equal(body.detail);
  if (instance) expect(body.instance).to.equal(instance);
  expect(body, "no Nest default members").not.to.have.any.keys("statusCode", "error");
  return body;
}

describe("Errors as RFC 9457 problem documents, declared in OpenAPI", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  const wallets = {} as Record<Member | "compliance" | "outsider", Wallet>;
  const tokens = {} as Record<Member | "compliance" | "outsider", string>;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    ds = svc.app.get<DataSource>(getDataSourceToken());
    const expiry = Math.floor(Date.now() / 1000) + 365 * 86400;
    for (const m of Object.keys(ROLE_BITS) as Member[]) {
      wallets[m] = Wallet.createRandom() as unknown as Wallet;
      await (await env.ledger.registry.connect(env.keys.operator).register(wallets[m].address, ROLE_BITS[m], expiry, "0x434e", keccakId(m))).wait();
    }
    wallets.compliance = Wallet.createRandom() as unknown as Wallet;
    wallets.outsider = Wallet.createRandom() as unknown as Wallet;
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(keccakId("COMPLIANCE_OFFICER"), wallets.compliance.address)).wait();
    await svc.app.get(IndexerService).catchUp();
    for (const k of Object.keys(wallets) as Array<keyof typeof wallets>) tokens[k] = await signIn(svc.url, wallets[k]);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const as = (who: keyof typeof tokens) => ({ Authorization: `Bearer ${tokens[who]}` });

  async function counts(): Promise<number[]> {
    return Promise.all([ds.getRepository(ApplicationEntity).count(), ds.getRepository(OutboxEntity).count()]);
  }

  describe("each class of error", function () {
    it("validation: 400 ValidationFailed listing every invalid field", async function () {
      const res = await request(svc.url).post("/auth/challenge").send({ address: "not an address", extra: 1 });
      const body = expectProblem(res, 400, "ValidationFailed", "/auth/challenge");
      const errors = body.errors as Array<{ field: string; messages: string[] }>;
      expect(errors.map((e) => e.field)).to.have.members(["address", "extra"]);
      for (const e of errors) expect(e.messages).to.be.an("array").that.is.not.empty;
      expect(body.detail).to.include("property extra should not exist");

      const before = await counts();
      const nested = await request(svc.url).post("/receivables/batch").set(as("supplier")).send({ invoices: [{ faceValue: "ten yuan" }] });
      const fields = (expectProblem(nested, 400, "ValidationFailed", "/receivables/batch").errors as Array<{ field: string }>).map((e) => e.field);
      expect(fields).to.include("invoices.0.faceValue");
      expect(await counts()).to.deep.equal(before);
    });

    it("malformed JSON: 400 MalformedRequest", async function () {
      const res = await request(svc.url).post("/auth/challenge").set("content-type", "application/json").send('{"address": ');
      expectProblem(res, 400, "MalformedRequest", "/auth/challenge");
    });

    it("no session: 401 Unauthorized", async function () {
      expectProblem(await request(svc.url).get("/participants"), 401, "Unauthorized", "/participants");
    });

    it("wrong role: 403 Forbidden", async function () {
      expectProblem(await request(svc.url).get("/compliance/checks").set(as("supplier")), 403, "Forbidden", "/compliance/checks");
    });

    it("unknown record: 404 NotFound; unknown route: 404 RouteNotFound naming it", async function () {
      const id = randomUUID();
      expectProblem(await request(svc.url).get(`/acts/${id}`).set(as("supplier")), 404, "NotFound", `/acts/${id}`);
      const route = expectProblem(await request(svc.url).delete("/no/such/route?x=1"), 404, "RouteNotFound", "/no/such/route");
      expect(route.detail).to.include("DELETE /no/such/route");
    });

    it("conflict: 409 for a member applying, and nothing is stored", async function () {
      const before = await counts();
      const res = await request(svc.url)
        .post("/onboarding/applications")
        .set(as("supplier"))
        .field("legalName", "Member Co., Ltd.")
        .field("entityIdType", "USCC")
        .field("entityId", freshUscc())
        .field("jurisdiction", "CN")
        .field("roles", "supplier")
        .attach("documents", Buffer.from("x"), "x.pdf");
      expectProblem(res, 409, "Conflict", "/onboarding/applications");
      expect(await counts()).to.deep.equal(before);
    });

    it("body too large: 413 PayloadTooLarge, logged as a warning and not as an error", async function () {
      const logger = svc.app.get(PinoLogger);
      const seen: Array<[string, string]> = [];
      const { warn, error } = logger;
      logger.warn = (...args: Parameters<typeof warn>) => (seen.push(["warn", JSON.stringify(args)]), warn.apply(logger, args));
      logger.error = (...args: Parameters<typeof error>) => (seen.push(["error", JSON.stringify(args)]), error.apply(logger, args));
      try {
        const res = await request(svc.url).post("/auth/challenge").send({ address: "x".repeat(2 * 1024 * 1024) });
        expectProblem(res, 413, "PayloadTooLarge", "/auth/challenge");
      } finally {
        logger.warn = warn;
        logger.error = error;
      }
      expect(seen.filter(([level]) => level === "error"), JSON.stringify(seen)).to.deep.equal([]);
      expect(seen.some(([level, text]) => level === "warn" && text.includes("413")), JSON.stringify(seen)).to.equal(true);
    });
  });

  describe("boolean query flags are true or false, nothing else", function () {
    const id = "0x" + "00".repeat(31) + "01";
    const cases: Array<{ who: keyof typeof tokens; method: "get" | "post"; path: string; flag: string }> = [
      { who: "buyer", method: "post", path: `/receivables/${id}/accept?wait=maybe`, flag: "wait" },
      { who: "supplier", method: "post", path: "/receivables?wait=1", flag: "wait" },
      { who: "buyer", method: "post", path: "/settlement/permits?wait=yes", flag: "wait" },
      { who: "financier", method: "post", path: "/credit-lines?wait=maybe", flag: "wait" },
      { who: "compliance", method: "post", path: `/onboarding/applications/${randomUUID()}/approve?wait=TRUE`, flag: "wait" },
      { who: "auditor", method: "get", path: "/audit/verify?contracts=1", flag: "contracts" },
      { who: "financier", method: "get", path: "/credit-lines?open=maybe", flag: "open" },
    ];
    for (const c of cases) {
      it(`${c.method.toUpperCase()} ${c.path}: 400 naming ${c.flag}, nothing written`, async function () {
        const before = await counts();
        const res = await request(svc.url)[c.method](c.path).set(as(c.who)).send({});
        const body = expectProblem(res, 400, "ValidationFailed", c.path.split("?")[0]);
        expect((body.errors as Array<{ field: string }>).map((e) => e.field)).to.include(c.flag);
        expect(body.detail).to.include(`${c.flag} must be true or false`);
        expect(await counts()).to.deep.equal(before);
      });
    }
  });

  describe("security headers", function () {
    it("answers with helmet's headers, and /docs still loads its page and scripts", async function () {
      const res = await request(svc.url).get("/eip712").expect(200);
      expect(res.headers["x-content-type-options"]).to.equal("nosniff");
      expect(res.headers["content-security-policy"]).to.include("default-src 'self'");
      expect(res.headers["strict-transport-security"]).to.match(/max-age=\d+/);
      expect(res.headers["x-frame-options"]).to.equal("SAMEORIGIN");
      expect(res.headers).not.to.have.property("x-powered-by");
      const page = await request(svc.url).get("/docs/").redirects(1).expect(200);
      expect(page.headers["content-security-policy"]).to.include("script-src 'self'");
      // The CSP forbids inline scripts: the page must load every script from a file, and each loads.
      expect(page.text).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
      const scripts = [...page.text.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
      expect(scripts).not.to.be.empty;
      for (const s of scripts) await request(svc.url).get(new URL(s, `${svc.url}/docs/`).pathname).expect(200);
    });

    it("problem documents carry the headers too", async function () {
      const res = await request(svc.url).get("/participants");
      expect(res.status).to.equal(401);
      expect(res.headers["x-content-type-options"]).to.equal("nosniff");
    });
  });

  describe("the OpenAPI document", function () {
    interface Op {
      operationId: string;
      security?: unknown[];
      responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
    }

    /** Controller classes by name, from the running application's modules. */
    function controllers(): Map<string, Type> {
      const out = new Map<string, Type>();
      for (const m of svc.app.get(ModulesContainer).values()) {
        for (const w of m.controllers.values()) if (w.metatype) out.set(w.metatype.name, w.metatype as Type);
      }
      return out;
    }

    it("declares every operation's errors with the problem schema, and the success status its route answers", async function () {
      const doc = (await request(svc.url).get("/docs-json").expect(200)).body as {
        paths: Record<string, Record<string, Op>>;
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
      };
      expect(doc.components.schemas.ProblemDetailsDto.properties).to.include.keys("type", "title", "status", "detail", "instance", "code");
      const classes = controllers();
      let operations = 0;
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          operations += 1;
          const name = `${method.toUpperCase()} ${path}`;
          const codes = Object.keys(op.responses).map(Number);
          const errors = codes.filter((c) => c >= 400);
          expect(errors, `${name} declares 429 and 500`).to.include.members([429, 500]);
          if (op.security?.length) expect(errors, `${name} needs a session: declares 401`).to.include(401);
          for (const c of errors) {
            const content = op.responses[String(c)].content ?? {};
            expect(Object.keys(content), `${name} ${c}`).to.deep.equal([PROBLEM_CONTENT_TYPE]);
            expect(content[PROBLEM_CONTENT_TYPE].schema?.$ref, `${name} ${c}`).to.equal("#/components/schemas/ProblemDetailsDto");
          }

          const [controllerName, handlerName] = op.operationId.split("_");
          const controller = classes.get(controllerName);
          expect(controller, `${name}: controller ${controllerName}`).to.not.equal(undefined);
          const handler = (controller!.prototype as Record<string, object>)[handlerName];
          const success = codes.filter((c) => c >= 200 && c < 300);
          const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller!, handlerName) ?? {}) as Record<string, unknown>;
          const answeredByAct = ((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[]).includes(ActAnswerInterceptor);
          const setsOwnStatus = answeredByAct || Object.keys(args).some((k) => k.split(":")[0] === String(RouteParamtypes.RESPONSE));
          if (setsOwnStatus) {
            // The handler (or, for a signed act, the act's answer) sets the status itself (typed data
            // 200, accepted act 202, a kept offer 201, a stream 200).
            expect(success, name).to.not.be.empty;
            expect([200, 201, 202, 204], name).to.include.members(success);
          } else {
            const verb = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
            const answered = (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (verb === RequestMethod.POST ? 201 : 200);
            expect(success, `${name} answers ${answered}`).to.deep.equal([answered]);
          }
        }
      }
      expect(operations).to.be.at.least(40);
    });
  });

  describe("throttling and unexpected errors (a second service with a low limit)", function () {
    let env2: TestEnv;
    let svc2: RunningService;
    before(async function () {
      env2 = await prepareEnv(chain, { THROTTLE_LIMIT: "3" });
      svc2 = await startService(env2);
    });
    after(async function () {
      await svc2?.close();
      if (env2) await cleanupEnv(env2);
    });

    it("too many requests: 429 TooManyRequests", async function () {
      for (let i = 0; i < 3; i++) await request(svc2.url).get("/eip712").expect(200);
      expectProblem(await request(svc2.url).get("/eip712"), 429, "TooManyRequests", "/eip712");
    });

    it("an unexpected failure (its table dropped under it): 500 InternalError without internals", async function () {
      const ds2 = svc2.app.get<DataSource>(getDataSourceToken());
      await ds2.query("DROP TABLE auth_challenges");
      const res = await request(svc2.url).post("/auth/challenge").send({ address: Wallet.createRandom().address });
      const body = expectProblem(res, 500, "InternalError", "/auth/challenge");
      expect(res.text).not.to.match(/auth_challenges|SQL|relation|no such table|QueryFailed|at \w+ \(/i);
      expect(Object.keys(body)).to.have.members(["type", "title", "status", "detail", "instance", "code", "message"]);
    });
  });
});
