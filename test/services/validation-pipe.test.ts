/**
 * The global validation pipe's 400s on the read routes' query DTOs (list of receivables, audit
 * feed), pinned field by field, and the per-class cache of class-validator's rules under it
 * (validation-metadata.ts): the same rules, messages and order as class-validator looking them up
 * on every call, and rules added after a class was first validated (a class or schema loaded
 * later) still apply.
 */
import { expect } from "chai";
import { BadRequestException, type ArgumentMetadata } from "@nestjs/common";
import { IsInt, Max, getMetadataStorage } from "class-validator";
import { ProblemValidationPipe } from "../../services/src/common/validation.pipe";
import { cacheValidationMetadata } from "../../services/src/common/validation-metadata";
import { ListReceivablesQueryDto } from "../../services/src/receivables/dto/receivable-read.dto";
import { ListAuditEventsQueryDto } from "../../services/src/audit/dto/audit-query.dto";
import { ApproveApplicationDto } from "../../services/src/onboarding/dto/application.dto";

const query = (metatype: ArgumentMetadata["metatype"]): ArgumentMetadata => ({ type: "query", metatype, data: undefined });

async function refusal(
  pipe: ProblemValidationPipe,
  metatype: ArgumentMetadata["metatype"],
  value: Record<string, unknown>,
  meta: ArgumentMetadata = query(metatype),
): Promise<unknown> {
  try {
    await pipe.transform({ ...value }, meta);
  } catch (err) {
    expect(err).to.be.instanceOf(BadRequestException);
    return (err as BadRequestException).getResponse();
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe("Validation pipe: query DTOs and cached class-validator rules", function () {
  // Bodies as the pipe gave them before the rules were cached (same inputs, same build otherwise).
  const pinned: Array<[ArgumentMetadata["metatype"], Record<string, unknown>, unknown]> = [
    [
      ListReceivablesQueryDto,
      { status: "accepted,lost", limit: "201", minAmount: "1.5", dueFrom: "tomorrow", sort: "price", unknown: "1" },
      {"error": "ValidationFailed", "message": "property unknown should not exist; status must list values among issued, accepted, financed, paid, defaulted, cancelled, split; dueFrom must be a valid ISO 8601 date string; minAmount must be a whole number of fen, as 1 to 20 decimal digits; sort must be one of the following values: dueDate, -dueDate, amount, -amount, createdAt, -createdAt; limit must not be greater than 200", "errors": [{"field": "unknown", "messages": ["property unknown should not exist"]}, {"field": "status", "messages": ["status must list values among issued, accepted, financed, paid, defaulted, cancelled, split"]}, {"field": "dueFrom", "messages": ["dueFrom must be a valid ISO 8601 date string"]}, {"field": "minAmount", "messages": ["minAmount must be a whole number of fen, as 1 to 20 decimal digits"]}, {"field": "sort", "messages": ["sort must be one of the following values: dueDate, -dueDate, amount, -amount, createdAt, -createdAt"]}, {"field": "limit", "messages": ["limit must not be greater than 200"]}]},
    ],
    [
      ListReceivablesQueryDto,
      { role: "owner", party: "0xnothex", termReview: "maybe", limit: "0", cursor: "x".repeat(513), invoiceNumber: "" },
      {"error": "ValidationFailed", "message": "role must be one of the following values: seller, debtor, holder, financier; party must be a 0x-prefixed 20-byte hex address, all lower-case or EIP-55 checksummed; termReview must be true or false; limit must not be less than 1; invoiceNumber must be longer than or equal to 1 characters; cursor must be shorter than or equal to 512 characters", "errors": [{"field": "role", "messages": ["role must be one of the following values: seller, debtor, holder, financier"]}, {"field": "party", "messages": ["party must be a 0x-prefixed 20-byte hex address, all lower-case or EIP-55 checksummed"]}, {"field": "termReview", "messages": ["termReview must be true or false"]}, {"field": "limit", "messages": ["limit must not be less than 1"]}, {"field": "invoiceNumber", "messages": ["invoiceNumber must be longer than or equal to 1 characters"]}, {"field": "cursor", "messages": ["cursor must be shorter than or equal to 512 characters"]}]},
    ],
    [
      ListAuditEventsQueryDto,
      { receivableId: "0x12", member: "0xnothex", type: "drop table", txHash: "0x1", from: "yesterday", fromBlock: "-1", limit: "501" },
      {"error": "ValidationFailed", "message": "limit must not be greater than 500; receivableId must be 0x followed by 64 hex digits, or a decimal uint256; member must be a 0x-prefixed 20-byte hex address, all lower-case or EIP-55 checksummed; type must list event names such as ReceivableAccepted, comma separated; txHash must be 0x followed by 64 hex digits; from must be a valid ISO 8601 date string; fromBlock must not be less than 0", "errors": [{"field": "limit", "messages": ["limit must not be greater than 500"]}, {"field": "receivableId", "messages": ["receivableId must be 0x followed by 64 hex digits, or a decimal uint256"]}, {"field": "member", "messages": ["member must be a 0x-prefixed 20-byte hex address, all lower-case or EIP-55 checksummed"]}, {"field": "type", "messages": ["type must list event names such as ReceivableAccepted, comma separated"]}, {"field": "txHash", "messages": ["txHash must be 0x followed by 64 hex digits"]}, {"field": "from", "messages": ["from must be a valid ISO 8601 date string"]}, {"field": "fromBlock", "messages": ["fromBlock must not be less than 0"]}]},
    ],
    [
      ListAuditEventsQueryDto,
      { toBlock: "1.5", limit: "abc", cursor: ["a", "b"], extra: "x" },
      {"error": "ValidationFailed", "message": "property extra should not exist; limit must not be greater than 500; limit must not be less than 1; limit must be an integer number; cursor must be shorter than or equal to 512 characters; cursor must be a string; toBlock must be an integer number", "errors": [{"field": "extra", "messages": ["property extra should not exist"]}, {"field": "limit", "messages": ["limit must not be greater than 500", "limit must not be less than 1", "limit must be an integer number"]}, {"field": "cursor", "messages": ["cursor must be shorter than or equal to 512 characters", "cursor must be a string"]}, {"field": "toBlock", "messages": ["toBlock must be an integer number"]}]},
    ],
  ];

  it("refuses bad list and audit-feed queries with the same messages, fields and order, call after call", async function () {
    const pipe = new ProblemValidationPipe();
    for (let round = 0; round < 3; round++) {
      for (const [metatype, value, expected] of pinned) {
        expect(await refusal(pipe, metatype, value), `${metatype!.name} ${JSON.stringify(value)}`).to.deep.equal(expected);
      }
    }
  });

  it("still accepts and converts good queries (inherited filter rules included)", async function () {
    const pipe = new ProblemValidationPipe();
    const list = (await pipe.transform({ status: "accepted,paid", limit: "20", sort: "-amount" }, query(ListReceivablesQueryDto))) as ListReceivablesQueryDto;
    expect(list).to.be.instanceOf(ListReceivablesQueryDto);
    expect(list).to.deep.include({ status: ["accepted", "paid"], limit: 20, sort: "-amount" });
    const feed = (await pipe.transform({ fromBlock: "7", type: "ReceivableAccepted", limit: "100" }, query(ListAuditEventsQueryDto))) as ListAuditEventsQueryDto;
    expect(feed).to.deep.include({ fromBlock: 7, type: ["ReceivableAccepted"], limit: 100 });
  });

  it("applies a rule added after the class was first validated, to the class and to a subclass made later", async function () {
    const pipe = new ProblemValidationPipe();
    cacheValidationMetadata(); // installed by the pipe already: a second call changes nothing
    class Late {
      @IsInt()
      n?: number;
    }
    await pipe.transform({ n: 1 }, query(Late));
    expect(await refusal(pipe, Late, { n: 1, m: 2 })).to.deep.include({ message: "property m should not exist" });
    // A rule registered now (as a module loaded later would) must be seen at once.
    Max(5)(Late.prototype, "n");
    expect(await refusal(pipe, Late, { n: 6 })).to.deep.include({ message: "n must not be greater than 5" });
    class LaterChild extends Late {}
    const inherited = (await refusal(pipe, LaterChild, { n: 6.5 })) as { errors: Array<{ field: string; messages: string[] }> };
    expect(inherited.errors).to.have.length(1);
    expect(inherited.errors[0].messages).to.have.members(["n must not be greater than 5", "n must be an integer number"]);
    // One answer per class and options, not one per call.
    const storage = getMetadataStorage();
    const a = storage.getTargetValidationMetadatas(Late, "", false, false);
    expect(storage.getTargetValidationMetadatas(Late, "", false, false)).to.equal(a);
    expect(storage.getTargetValidationMetadatas(Late, "", false, false, ["g"])).to.not.equal(a);
  });
  it("refuses a whole-number field that is not a plain decimal by name, and changes nothing (the HTTP fuzzer's {toString: null} was a 500)", async function () {
    const pipe = new ProblemValidationPipe();
    const body: ArgumentMetadata = { type: "body", metatype: ApproveApplicationDto, data: undefined };
    // class-transformer's Number(value) took true as 1, [30] as 30, "" as 0 and "0x10" as 16, and threw on an object without toString.
    for (const bad of [{ toString: null }, true, [30], "", "0x10", "1e3", " 30", "1,000"]) {
      const refused = (await refusal(pipe, ApproveApplicationDto, { kycValidityDays: bad }, body)) as { error: string; errors: Array<{ field: string }> };
      expect(refused.error, JSON.stringify(bad)).to.equal("ValidationFailed");
      expect(refused.errors.map((e) => e.field), JSON.stringify(bad)).to.deep.equal(["kycValidityDays"]);
    }
    // Digits, as text or as a number, still convert; a fraction converts and is refused as one.
    expect(await pipe.transform({ kycValidityDays: "30" }, body)).to.deep.include({ kycValidityDays: 30 });
    expect(await pipe.transform({ kycValidityDays: 30 }, body)).to.deep.include({ kycValidityDays: 30 });
    const page = (await refusal(pipe, ListAuditEventsQueryDto, { limit: "true" })) as { errors: Array<{ field: string }> };
    expect(page.errors.map((e) => e.field)).to.deep.equal(["limit"]);
  });
});
