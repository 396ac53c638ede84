import { expect } from "chai";
import { timeOrderedId } from "../../services/src/compliance/run-id";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("timeOrderedId (UUID v7 of compliance runs and rows)", () => {
  it("is a version-7, variant-1 UUID carrying the millisecond it was made in", () => {
    // Ahead of every id this process made so far (ids never go back in time, so a fixed past instant
    // would come back as the last id's millisecond).
    const at = Date.now() + 10_000;
    const id = timeOrderedId(at);
    expect(id).to.match(UUID_V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).to.equal(at);
  });

  it("sorts in creation order within one millisecond and is unique across many refills of its random pool", () => {
    const at = Date.now() + 60_000;
    const ids = Array.from({ length: 3_000 }, () => timeOrderedId(at));
    expect([...ids].sort()).to.deep.equal(ids);
    expect(new Set(ids).size).to.equal(ids.length);
    // The 62 random bits of rand_b (after the variant) differ between ids: none is reused.
    expect(new Set(ids.map((id) => id.slice(19))).size).to.equal(ids.length);
    for (const id of ids) expect(id).to.match(UUID_V7);
  });
});
