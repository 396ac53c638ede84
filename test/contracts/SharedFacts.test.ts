/**
 * shared/ states facts the contracts also state: the role bits, the EIP-712 types and domains of
 * every signed act, the permit's type. These tests hold the two together, so a change on one side
 * fails here until the other follows:
 * - role bits against Roles.sol's constants and against what a deployed registry accepts;
 * - each act's encodeType against the string the contract hashes into its typehash (the typehashes
 *   are private constants, so their source is the only place to read them), in both directions;
 * - each domain's name and version against the deployed contract's ERC-5267 eip712Domain().
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import { TypedDataEncoder, type TypedDataField } from "ethers";
import { FINANCING_DOMAIN, FINANCING_TYPES, PERMIT_TYPES, RECEIVABLES_DOMAIN, RECEIVABLES_TYPES } from "../../shared/eip712";
import { ALL_ROLES, maskToRoles, ROLE_BITS, ROLE_NAMES, rolesToMask } from "../../shared/roles";
import { entityIdHash, JURISDICTION_CN, ledgerFixture, YEAR } from "./helpers/fixture";

const ROOT = join(__dirname, "..", "..");
const source = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** The strings each `X_TYPEHASH = keccak256("..." "...")` constant of a contract hashes, by constant name. */
function typehashStrings(solidity: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of solidity.matchAll(/bytes32\s+private\s+constant\s+(\w+_TYPEHASH)\s*=\s*keccak256\(\s*((?:"[^"]*"\s*)+)\)/g)) {
    out.set(m[1], [...m[2].matchAll(/"([^"]*)"/g)].map((s) => s[1]).join(""));
  }
  return out;
}

const encodeType = (types: Record<string, TypedDataField[]>, primary: string) => TypedDataEncoder.from(types).encodeType(primary);

/** Struct types nested in an act (Invoice, LineTerms, …): hashed on their own, never signed alone. */
function nestedTypes(acts: Record<string, Record<string, TypedDataField[]>>): Set<string> {
  const nested = new Set<string>();
  for (const [primary, types] of Object.entries(acts)) for (const name of Object.keys(types)) if (name !== primary) nested.add(name);
  return nested;
}

function checkActs(contractPath: string, acts: Record<string, Record<string, TypedDataField[]>>): void {
  const fromContract = typehashStrings(source(contractPath));
  const contractTypes = new Set(fromContract.values());
  const nested = nestedTypes(acts);

  it("reads every typehash of the contract", () => {
    expect(fromContract.size).to.be.greaterThan(Object.keys(acts).length);
  });

  for (const [primary, types] of Object.entries(acts)) {
    it(`${primary}: shared/eip712.ts encodes the type the contract hashes`, () => {
      expect(contractTypes, `${contractPath} has no typehash over ${encodeType(types, primary)}`).to.include(encodeType(types, primary));
    });
  }

  it("declares every act the contract verifies", () => {
    const shared = new Set(Object.entries(acts).map(([primary, types]) => encodeType(types, primary)));
    const missing = [...fromContract]
      .filter(([, s]) => !shared.has(s) && !nested.has(s.slice(0, s.indexOf("("))))
      .map(([name]) => name);
    expect(missing, "typehashes with no act in shared/eip712.ts").to.deep.equal([]);
  });
}

describe("shared/ against the contracts", () => {
  describe("role bits (shared/roles.ts)", () => {
    const rolesSol = source("contracts/libraries/Roles.sol");
    const constant = (name: string) => {
      const m = new RegExp(`uint8\\s+internal\\s+constant\\s+${name}\\s*=\\s*([^;]+);`).exec(rolesSol);
      if (!m) throw new Error(`Roles.sol declares no uint8 ${name}`);
      return m[1].trim();
    };

    for (const name of ROLE_NAMES) {
      it(`${name} is Roles.${name.toUpperCase()}`, () => {
        expect(Number(constant(name.toUpperCase()))).to.equal(ROLE_BITS[name]);
      });
    }

    it("ALL_ROLES is Roles.ALL: the union of exactly these roles", () => {
      expect(constant("ALL").split("|").map((s) => s.trim().toLowerCase()).sort()).to.deep.equal([...ROLE_NAMES].sort());
      expect(ALL_ROLES).to.equal(rolesToMask(ROLE_NAMES));
      expect(maskToRoles(ALL_ROLES)).to.deep.equal([...ROLE_NAMES]);
    });

    it("a deployed registry verifies each bit as its role and refuses any bit beyond them", async () => {
      const f = await loadFixture(ledgerFixture);
      const kycExpiry = BigInt(await time.latest()) + YEAR;
      for (const name of ROLE_NAMES) {
        const account = ethers.Wallet.createRandom().address;
        await f.registry.connect(f.operator).register(account, ROLE_BITS[name], kycExpiry, JURISDICTION_CN, entityIdHash(account));
        for (const other of ROLE_NAMES) {
          expect(await f.registry.isVerified(account, ROLE_BITS[other]), `${name} member verified as ${other}`).to.equal(other === name);
        }
      }
      const beyond = ALL_ROLES + 1;
      const account = ethers.Wallet.createRandom().address;
      await expect(f.registry.connect(f.operator).register(account, beyond, kycExpiry, JURISDICTION_CN, entityIdHash(account)))
        .to.be.revertedWithCustomError(f.registry, "RegistryInvalidRoles")
        .withArgs(beyond);
    });
  });

  describe("Receivables acts (shared/eip712.ts)", () => checkActs("contracts/receivables/Receivables.sol", RECEIVABLES_TYPES));
  describe("Financing acts (shared/eip712.ts)", () => checkActs("contracts/financing/Financing.sol", FINANCING_TYPES));

  describe("EIP-2612 permit (shared/eip712.ts)", () => {
    it("encodes the type OpenZeppelin's ERC20Permit hashes", () => {
      const permit = typehashStrings(source("node_modules/@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol"));
      expect(permit.get("PERMIT_TYPEHASH")).to.equal(encodeType(PERMIT_TYPES, "Permit"));
    });
  });

  describe("domains", () => {
    it("name and version are the deployed contracts' own", async () => {
      const f = await loadFixture(ledgerFixture);
      const r = await f.receivables.eip712Domain();
      const fin = await f.financing.eip712Domain();
      expect({ name: r.name, version: r.version }).to.deep.equal(RECEIVABLES_DOMAIN);
      expect({ name: fin.name, version: fin.version }).to.deep.equal(FINANCING_DOMAIN);
    });
  });
});
