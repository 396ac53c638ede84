/**
 * ParticipantRegistry: membership, roles and KYC validity. Every admin function is checked for its
 * success path (event and stored record), its role gate and each input it refuses; `isVerified`
 * and `isActiveMember` are checked against status, roles and KYC expiry, including recovery after
 * reinstatement and KYC renewal.
 */
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ParticipantRegistry } from "../../typechain-types";
import { entityIdHash, JURISDICTION_CN, ledgerFixture, YEAR } from "./helpers/fixture";
import { ROLE_BITS } from "../../shared/roles";

const ONBOARDING_OPERATOR = ethers.id("ONBOARDING_OPERATOR");
const COMPLIANCE_OFFICER = ethers.id("COMPLIANCE_OFFICER");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const STATUS = { None: 0n, Active: 1n, Suspended: 2n } as const;
const ALL_ROLES = ROLE_BITS.supplier | ROLE_BITS.buyer | ROLE_BITS.financier | ROLE_BITS.auditor;
const JURISDICTION_HK = "0x484b"; // "HK"
const REASON = ethers.encodeBytes32String("SANCTIONS_HIT");

interface MemberRecord {
  roles: bigint;
  status: bigint;
  kycExpiry: bigint;
  jurisdiction: string;
  entityIdHash: string;
}

async function memberOf(registry: ParticipantRegistry, account: string): Promise<MemberRecord> {
  const m = await registry.member(account);
  return {
    roles: m.roles,
    status: m.status,
    kycExpiry: m.kycExpiry,
    jurisdiction: m.jurisdiction,
    entityIdHash: m.entityIdHash,
  };
}

/** The fixture plus a KYC expiry a year ahead and a valid profile for a newcomer (the outsider). */
async function registryFixture() {
  const f = await ledgerFixture();
  const kycExpiry = BigInt(await time.latest()) + YEAR;
  const entity = entityIdHash("newcomer LEI 5493001KJTIIGC8Y1R12");
  return { ...f, kycExpiry, entity };
}

/** Bad jurisdictions: lower case, digits, zero, and the ASCII neighbours of 'A' and 'Z' in each byte. */
const BAD_JURISDICTIONS: Array<[string, string]> = [
  ["lower case", "0x636e"], // "cn"
  ["mixed case", "0x436e"], // "Cn"
  ["digits", "0x3836"], // "86"
  ["zero", "0x0000"],
  ["'@' first (below 'A')", "0x404e"],
  ["'[' first (above 'Z')", "0x5b4e"],
  ["'@' second (below 'A')", "0x4340"],
  ["'[' second (above 'Z')", "0x435b"],
];

describe("ParticipantRegistry", function () {
  describe("constructor", function () {
    it("grants the admin, operator and officer roles to the configured accounts", async function () {
      const { registry, admin, operator, officer, outsider } = await loadFixture(registryFixture);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await registry.hasRole(ONBOARDING_OPERATOR, operator.address)).to.equal(true);
      expect(await registry.hasRole(COMPLIANCE_OFFICER, officer.address)).to.equal(true);
      expect(await registry.hasRole(ONBOARDING_OPERATOR, outsider.address)).to.equal(false);
      expect(await registry.hasRole(COMPLIANCE_OFFICER, operator.address)).to.equal(false);
      expect(await registry.getRoleAdmin(ONBOARDING_OPERATOR)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await registry.getRoleAdmin(COMPLIANCE_OFFICER)).to.equal(DEFAULT_ADMIN_ROLE);
    });
  });

  describe(".grantRole()", function () {
    describe("when the admin grants the onboarding operator role to a new account", function () {
      it("lets that account register members", async function () {
        const { registry, admin, outsider, supplier2, kycExpiry, entity } = await loadFixture(registryFixture);
        await expect(registry.connect(admin).grantRole(ONBOARDING_OPERATOR, supplier2.address))
          .to.emit(registry, "RoleGranted")
          .withArgs(ONBOARDING_OPERATOR, supplier2.address, admin.address);
        await expect(
          registry.connect(supplier2).register(outsider.address, ROLE_BITS.buyer, kycExpiry, JURISDICTION_CN, entity)
        )
          .to.emit(registry, "MemberRegistered")
          .withArgs(outsider.address, ROLE_BITS.buyer, kycExpiry, JURISDICTION_CN, entity);
        expect(await registry.isVerified(outsider.address, ROLE_BITS.buyer)).to.equal(true);
        // The grant is for onboarding only: the new operator is not a compliance officer.
        await expect(registry.connect(supplier2).suspend(outsider.address, REASON))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(supplier2.address, COMPLIANCE_OFFICER);
      });
    });

    describe("when the admin grants the compliance officer role to a new account", function () {
      it("lets that account suspend members", async function () {
        const { registry, admin, outsider, supplier } = await loadFixture(registryFixture);
        await registry.connect(admin).grantRole(COMPLIANCE_OFFICER, outsider.address);
        await expect(registry.connect(outsider).suspend(supplier.address, REASON))
          .to.emit(registry, "MemberSuspended")
          .withArgs(supplier.address, REASON);
      });
    });

    describe("when the caller is not the admin", function () {
      it("reverts with AccessControlUnauthorizedAccount for the admin role", async function () {
        const { registry, operator, outsider } = await loadFixture(registryFixture);
        await expect(registry.connect(operator).grantRole(ONBOARDING_OPERATOR, outsider.address))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(operator.address, DEFAULT_ADMIN_ROLE);
        expect(await registry.hasRole(ONBOARDING_OPERATOR, outsider.address)).to.equal(false);
      });
    });
  });

  describe(".register()", function () {
    describe("when the operator registers a valid new member", function () {
      it("emits MemberRegistered and stores an active record", async function () {
        const { registry, operator, outsider, kycExpiry, entity } = await loadFixture(registryFixture);
        const roles = ROLE_BITS.supplier | ROLE_BITS.financier;
        expect(await memberOf(registry, outsider.address)).to.deep.equal({
          roles: 0n,
          status: STATUS.None,
          kycExpiry: 0n,
          jurisdiction: "0x0000",
          entityIdHash: ethers.ZeroHash,
        });
        await expect(registry.connect(operator).register(outsider.address, roles, kycExpiry, JURISDICTION_HK, entity))
          .to.emit(registry, "MemberRegistered")
          .withArgs(outsider.address, roles, kycExpiry, JURISDICTION_HK, entity);
        expect(await memberOf(registry, outsider.address)).to.deep.equal({
          roles: BigInt(roles),
          status: STATUS.Active,
          kycExpiry,
          jurisdiction: JURISDICTION_HK,
          entityIdHash: entity,
        });
        expect(await registry.isActiveMember(outsider.address)).to.equal(true);
        expect(await registry.isVerified(outsider.address, roles)).to.equal(true);
      });

      it("accepts every role at once and the extreme letters 'A' and 'Z'", async function () {
        const { registry, operator, outsider, kycExpiry, entity } = await loadFixture(registryFixture);
        await expect(registry.connect(operator).register(outsider.address, ALL_ROLES, kycExpiry, "0x415a", entity))
          .to.emit(registry, "MemberRegistered")
          .withArgs(outsider.address, ALL_ROLES, kycExpiry, "0x415a", entity);
        expect(await registry.isVerified(outsider.address, ALL_ROLES)).to.equal(true);
      });

      it("accepts a KYC expiry one second after the block time", async function () {
        const { registry, operator, outsider, entity } = await loadFixture(registryFixture);
        const at = BigInt(await time.latest()) + 100n;
        await time.setNextBlockTimestamp(at);
        await expect(
          registry.connect(operator).register(outsider.address, ROLE_BITS.buyer, at + 1n, JURISDICTION_CN, entity)
        )
          .to.emit(registry, "MemberRegistered")
          .withArgs(outsider.address, ROLE_BITS.buyer, at + 1n, JURISDICTION_CN, entity);
      });
    });

    describe("when the caller is not the onboarding operator", function () {
      it("reverts with AccessControlUnauthorizedAccount for ONBOARDING_OPERATOR", async function () {
        const { registry, admin, officer, outsider, kycExpiry, entity } = await loadFixture(registryFixture);
        for (const caller of [officer, admin, outsider]) {
          await expect(
            registry.connect(caller).register(outsider.address, ROLE_BITS.buyer, kycExpiry, JURISDICTION_CN, entity)
          )
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, ONBOARDING_OPERATOR);
        }
        expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
      });
    });

    describe("when the account is the zero address", function () {
      it("reverts with RegistryInvalidAccount", async function () {
        const { registry, operator, kycExpiry, entity } = await loadFixture(registryFixture);
        await expect(
          registry.connect(operator).register(ethers.ZeroAddress, ROLE_BITS.buyer, kycExpiry, JURISDICTION_CN, entity)
        )
          .to.be.revertedWithCustomError(registry, "RegistryInvalidAccount")
          .withArgs(ethers.ZeroAddress);
      });
    });

    describe("when the account is already a member", function () {
      it("reverts with RegistryMemberExists and keeps the old record", async function () {
        const { registry, operator, supplier, kycExpiry, entity } = await loadFixture(registryFixture);
        const before = await memberOf(registry, supplier.address);
        await expect(
          registry.connect(operator).register(supplier.address, ROLE_BITS.financier, kycExpiry, JURISDICTION_HK, entity)
        )
          .to.be.revertedWithCustomError(registry, "RegistryMemberExists")
          .withArgs(supplier.address);
        expect(await memberOf(registry, supplier.address)).to.deep.equal(before);
      });

      it("reverts with RegistryMemberExists also while the member is suspended", async function () {
        const { registry, operator, officer, supplier, kycExpiry, entity } = await loadFixture(registryFixture);
        await registry.connect(officer).suspend(supplier.address, REASON);
        await expect(
          registry.connect(operator).register(supplier.address, ROLE_BITS.supplier, kycExpiry, JURISDICTION_CN, entity)
        )
          .to.be.revertedWithCustomError(registry, "RegistryMemberExists")
          .withArgs(supplier.address);
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Suspended);
      });
    });

    describe("when the role mask is empty or out of range", function () {
      for (const roles of [0, 16, 32, 128, 255, ALL_ROLES | 16]) {
        it(`reverts with RegistryInvalidRoles(${roles})`, async function () {
          const { registry, operator, outsider, kycExpiry, entity } = await loadFixture(registryFixture);
          await expect(registry.connect(operator).register(outsider.address, roles, kycExpiry, JURISDICTION_CN, entity))
            .to.be.revertedWithCustomError(registry, "RegistryInvalidRoles")
            .withArgs(roles);
          expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
        });
      }
    });

    describe("when the KYC expiry is not in the future", function () {
      it("reverts with RegistryInvalidKycExpiry for an expiry equal to the block time", async function () {
        const { registry, operator, outsider, entity } = await loadFixture(registryFixture);
        const at = BigInt(await time.latest()) + 100n;
        await time.setNextBlockTimestamp(at);
        await expect(registry.connect(operator).register(outsider.address, ROLE_BITS.buyer, at, JURISDICTION_CN, entity))
          .to.be.revertedWithCustomError(registry, "RegistryInvalidKycExpiry")
          .withArgs(at, at);
        expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
      });

      it("reverts with RegistryInvalidKycExpiry for an expiry in the past or zero", async function () {
        const { registry, operator, outsider, entity } = await loadFixture(registryFixture);
        for (const expiry of [0n, BigInt(await time.latest()) - 1n]) {
          const at = BigInt(await time.latest()) + 10n;
          await time.setNextBlockTimestamp(at);
          await expect(
            registry.connect(operator).register(outsider.address, ROLE_BITS.buyer, expiry, JURISDICTION_CN, entity)
          )
            .to.be.revertedWithCustomError(registry, "RegistryInvalidKycExpiry")
            .withArgs(expiry, at);
          await ethers.provider.send("evm_mine", []);
        }
      });
    });

    describe("when the jurisdiction is not two upper-case ASCII letters", function () {
      for (const [label, jurisdiction] of BAD_JURISDICTIONS) {
        it(`reverts with RegistryInvalidJurisdiction (${label})`, async function () {
          const { registry, operator, outsider, kycExpiry, entity } = await loadFixture(registryFixture);
          await expect(
            registry.connect(operator).register(outsider.address, ROLE_BITS.buyer, kycExpiry, jurisdiction, entity)
          )
            .to.be.revertedWithCustomError(registry, "RegistryInvalidJurisdiction")
            .withArgs(jurisdiction);
          expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
        });
      }
    });

    describe("when the entity id hash is zero", function () {
      it("reverts with RegistryInvalidEntityId", async function () {
        const { registry, operator, outsider, kycExpiry } = await loadFixture(registryFixture);
        await expect(
          registry.connect(operator).register(outsider.address, ROLE_BITS.buyer, kycExpiry, JURISDICTION_CN, ethers.ZeroHash)
        ).to.be.revertedWithCustomError(registry, "RegistryInvalidEntityId");
        expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
      });
    });
  });

  describe(".update()", function () {
    describe("when the operator updates a member's profile", function () {
      it("emits MemberUpdated and changes roles, jurisdiction and entity id but not status or KYC", async function () {
        const { registry, operator, supplier, entity } = await loadFixture(registryFixture);
        const before = await memberOf(registry, supplier.address);
        const roles = ROLE_BITS.supplier | ROLE_BITS.buyer;
        await expect(registry.connect(operator).update(supplier.address, roles, JURISDICTION_HK, entity))
          .to.emit(registry, "MemberUpdated")
          .withArgs(supplier.address, roles, JURISDICTION_HK, entity);
        expect(await memberOf(registry, supplier.address)).to.deep.equal({
          roles: BigInt(roles),
          status: before.status,
          kycExpiry: before.kycExpiry,
          jurisdiction: JURISDICTION_HK,
          entityIdHash: entity,
        });
        expect(await registry.isVerified(supplier.address, ROLE_BITS.buyer)).to.equal(true);
      });

      it("removes a role so the member is no longer verified in it", async function () {
        const { registry, operator, buyer2 } = await loadFixture(registryFixture);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.supplier)).to.equal(true);
        await registry
          .connect(operator)
          .update(buyer2.address, ROLE_BITS.buyer, JURISDICTION_CN, entityIdHash(buyer2.address));
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.supplier)).to.equal(false);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.buyer)).to.equal(true);
      });

      it("leaves a suspended member suspended", async function () {
        const { registry, operator, officer, supplier, entity } = await loadFixture(registryFixture);
        await registry.connect(officer).suspend(supplier.address, REASON);
        await expect(registry.connect(operator).update(supplier.address, ROLE_BITS.financier, JURISDICTION_CN, entity))
          .to.emit(registry, "MemberUpdated")
          .withArgs(supplier.address, ROLE_BITS.financier, JURISDICTION_CN, entity);
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Suspended);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.financier)).to.equal(false);
      });
    });

    describe("when the caller is not the onboarding operator", function () {
      it("reverts with AccessControlUnauthorizedAccount for ONBOARDING_OPERATOR", async function () {
        const { registry, admin, officer, supplier, entity } = await loadFixture(registryFixture);
        const before = await memberOf(registry, supplier.address);
        for (const caller of [officer, admin, supplier]) {
          await expect(registry.connect(caller).update(supplier.address, ROLE_BITS.buyer, JURISDICTION_HK, entity))
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, ONBOARDING_OPERATOR);
        }
        expect(await memberOf(registry, supplier.address)).to.deep.equal(before);
      });
    });

    describe("when the account was never registered", function () {
      it("reverts with RegistryUnknownMember", async function () {
        const { registry, operator, outsider, entity } = await loadFixture(registryFixture);
        for (const account of [outsider.address, ethers.ZeroAddress]) {
          await expect(registry.connect(operator).update(account, ROLE_BITS.buyer, JURISDICTION_CN, entity))
            .to.be.revertedWithCustomError(registry, "RegistryUnknownMember")
            .withArgs(account);
        }
        expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
      });
    });

    describe("when the role mask is empty or out of range", function () {
      it("reverts with RegistryInvalidRoles", async function () {
        const { registry, operator, supplier, entity } = await loadFixture(registryFixture);
        const before = await memberOf(registry, supplier.address);
        for (const roles of [0, 16, 255]) {
          await expect(registry.connect(operator).update(supplier.address, roles, JURISDICTION_CN, entity))
            .to.be.revertedWithCustomError(registry, "RegistryInvalidRoles")
            .withArgs(roles);
        }
        expect(await memberOf(registry, supplier.address)).to.deep.equal(before);
      });
    });

    describe("when the jurisdiction is not two upper-case ASCII letters", function () {
      it("reverts with RegistryInvalidJurisdiction for each bad code", async function () {
        const { registry, operator, supplier, entity } = await loadFixture(registryFixture);
        const before = await memberOf(registry, supplier.address);
        for (const [, jurisdiction] of BAD_JURISDICTIONS) {
          await expect(registry.connect(operator).update(supplier.address, ROLE_BITS.supplier, jurisdiction, entity))
            .to.be.revertedWithCustomError(registry, "RegistryInvalidJurisdiction")
            .withArgs(jurisdiction);
        }
        expect(await memberOf(registry, supplier.address)).to.deep.equal(before);
      });
    });

    describe("when the entity id hash is zero", function () {
      it("reverts with RegistryInvalidEntityId", async function () {
        const { registry, operator, supplier } = await loadFixture(registryFixture);
        const before = await memberOf(registry, supplier.address);
        await expect(
          registry.connect(operator).update(supplier.address, ROLE_BITS.supplier, JURISDICTION_CN, ethers.ZeroHash)
        ).to.be.revertedWithCustomError(registry, "RegistryInvalidEntityId");
        expect(await memberOf(registry, supplier.address)).to.deep.equal(before);
      });
    });
  });

  describe(".renewKyc()", function () {
    describe("when the officer extends a member's KYC", function () {
      it("emits KycRenewed and stores the new expiry, leaving the rest of the record", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        const before = await memberOf(registry, supplier.address);
        const expiry = before.kycExpiry + YEAR;
        await expect(registry.connect(officer).renewKyc(supplier.address, expiry))
          .to.emit(registry, "KycRenewed")
          .withArgs(supplier.address, expiry);
        expect(await memberOf(registry, supplier.address)).to.deep.equal({ ...before, kycExpiry: expiry });
      });
    });

    describe("when the officer shortens a member's KYC", function () {
      it("stores the earlier expiry, after which the member is no longer verified", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        const at = BigInt(await time.latest()) + 1n;
        const expiry = at + 1000n;
        await time.setNextBlockTimestamp(at);
        await expect(registry.connect(officer).renewKyc(supplier.address, expiry))
          .to.emit(registry, "KycRenewed")
          .withArgs(supplier.address, expiry);
        expect((await registry.member(supplier.address)).kycExpiry).to.equal(expiry);
        await time.increaseTo(expiry);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(false);
      });
    });

    describe("when the member's KYC has already expired", function () {
      it("renews it and the member is verified again", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        const old = (await registry.member(supplier.address)).kycExpiry;
        await time.increaseTo(old + 1n);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(false);
        expect(await registry.isActiveMember(supplier.address)).to.equal(false);
        const expiry = BigInt(await time.latest()) + YEAR;
        await expect(registry.connect(officer).renewKyc(supplier.address, expiry))
          .to.emit(registry, "KycRenewed")
          .withArgs(supplier.address, expiry);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(true);
        expect(await registry.isActiveMember(supplier.address)).to.equal(true);
      });
    });

    describe("when the caller is not the compliance officer", function () {
      it("reverts with AccessControlUnauthorizedAccount for COMPLIANCE_OFFICER", async function () {
        const { registry, admin, operator, supplier } = await loadFixture(registryFixture);
        const before = (await registry.member(supplier.address)).kycExpiry;
        for (const caller of [operator, admin, supplier]) {
          await expect(registry.connect(caller).renewKyc(supplier.address, before + YEAR))
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, COMPLIANCE_OFFICER);
        }
        expect((await registry.member(supplier.address)).kycExpiry).to.equal(before);
      });
    });

    describe("when the account was never registered", function () {
      it("reverts with RegistryUnknownMember", async function () {
        const { registry, officer, outsider, kycExpiry } = await loadFixture(registryFixture);
        await expect(registry.connect(officer).renewKyc(outsider.address, kycExpiry))
          .to.be.revertedWithCustomError(registry, "RegistryUnknownMember")
          .withArgs(outsider.address);
        expect(await memberOf(registry, outsider.address)).to.deep.equal({
          roles: 0n,
          status: STATUS.None,
          kycExpiry: 0n,
          jurisdiction: "0x0000",
          entityIdHash: ethers.ZeroHash,
        });
      });
    });

    describe("when the new expiry is not in the future", function () {
      it("reverts with RegistryInvalidKycExpiry for an expiry equal to the block time", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        const before = (await registry.member(supplier.address)).kycExpiry;
        const at = BigInt(await time.latest()) + 100n;
        await time.setNextBlockTimestamp(at);
        await expect(registry.connect(officer).renewKyc(supplier.address, at))
          .to.be.revertedWithCustomError(registry, "RegistryInvalidKycExpiry")
          .withArgs(at, at);
        expect((await registry.member(supplier.address)).kycExpiry).to.equal(before);
      });

      it("reverts with RegistryInvalidKycExpiry for an expiry in the past", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        const at = BigInt(await time.latest()) + 100n;
        await time.setNextBlockTimestamp(at);
        await expect(registry.connect(officer).renewKyc(supplier.address, at - 50n))
          .to.be.revertedWithCustomError(registry, "RegistryInvalidKycExpiry")
          .withArgs(at - 50n, at);
      });
    });
  });

  describe(".suspend()", function () {
    describe("when the officer suspends an active member", function () {
      it("emits MemberSuspended and marks it suspended, unverified in every role", async function () {
        const { registry, officer, buyer2 } = await loadFixture(registryFixture);
        const before = await memberOf(registry, buyer2.address);
        await expect(registry.connect(officer).suspend(buyer2.address, REASON))
          .to.emit(registry, "MemberSuspended")
          .withArgs(buyer2.address, REASON);
        expect(await memberOf(registry, buyer2.address)).to.deep.equal({ ...before, status: STATUS.Suspended });
        expect(await registry.isActiveMember(buyer2.address)).to.equal(false);
        for (const mask of [ROLE_BITS.supplier, ROLE_BITS.buyer, ROLE_BITS.supplier | ROLE_BITS.buyer]) {
          expect(await registry.isVerified(buyer2.address, mask)).to.equal(false);
        }
      });

      it("suspends a member whose KYC has expired", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        await time.increaseTo((await registry.member(supplier.address)).kycExpiry + 1n);
        await expect(registry.connect(officer).suspend(supplier.address, REASON))
          .to.emit(registry, "MemberSuspended")
          .withArgs(supplier.address, REASON);
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Suspended);
      });
    });

    describe("when the caller is not the compliance officer", function () {
      it("reverts with AccessControlUnauthorizedAccount for COMPLIANCE_OFFICER", async function () {
        const { registry, admin, operator, supplier, buyer } = await loadFixture(registryFixture);
        for (const caller of [operator, admin, buyer]) {
          await expect(registry.connect(caller).suspend(supplier.address, REASON))
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, COMPLIANCE_OFFICER);
        }
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Active);
      });
    });

    describe("when the account was never registered", function () {
      it("reverts with RegistryUnknownMember", async function () {
        const { registry, officer, outsider } = await loadFixture(registryFixture);
        for (const account of [outsider.address, ethers.ZeroAddress]) {
          await expect(registry.connect(officer).suspend(account, REASON))
            .to.be.revertedWithCustomError(registry, "RegistryUnknownMember")
            .withArgs(account);
        }
        expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
      });
    });

    describe("when the member is already suspended", function () {
      it("reverts with RegistryAlreadySuspended", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        await registry.connect(officer).suspend(supplier.address, REASON);
        await expect(registry.connect(officer).suspend(supplier.address, ethers.encodeBytes32String("OTHER")))
          .to.be.revertedWithCustomError(registry, "RegistryAlreadySuspended")
          .withArgs(supplier.address);
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Suspended);
      });
    });
  });

  describe(".reinstate()", function () {
    describe("when the officer reinstates a suspended member", function () {
      it("emits MemberReinstated, marks it active and verified again", async function () {
        const { registry, officer, buyer2 } = await loadFixture(registryFixture);
        const before = await memberOf(registry, buyer2.address);
        await registry.connect(officer).suspend(buyer2.address, REASON);
        await expect(registry.connect(officer).reinstate(buyer2.address))
          .to.emit(registry, "MemberReinstated")
          .withArgs(buyer2.address);
        expect(await memberOf(registry, buyer2.address)).to.deep.equal(before);
        expect(await registry.isActiveMember(buyer2.address)).to.equal(true);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.supplier | ROLE_BITS.buyer)).to.equal(true);
      });
    });

    describe("when the reinstated member's KYC has expired meanwhile", function () {
      it("marks it active but it stays unverified until KYC is renewed", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        await registry.connect(officer).suspend(supplier.address, REASON);
        await time.increaseTo((await registry.member(supplier.address)).kycExpiry);
        await expect(registry.connect(officer).reinstate(supplier.address))
          .to.emit(registry, "MemberReinstated")
          .withArgs(supplier.address);
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Active);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(false);
        expect(await registry.isActiveMember(supplier.address)).to.equal(false);
        await registry.connect(officer).renewKyc(supplier.address, BigInt(await time.latest()) + YEAR);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(true);
      });
    });

    describe("when the caller is not the compliance officer", function () {
      it("reverts with AccessControlUnauthorizedAccount for COMPLIANCE_OFFICER", async function () {
        const { registry, admin, operator, officer, supplier } = await loadFixture(registryFixture);
        await registry.connect(officer).suspend(supplier.address, REASON);
        for (const caller of [operator, admin, supplier]) {
          await expect(registry.connect(caller).reinstate(supplier.address))
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, COMPLIANCE_OFFICER);
        }
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Suspended);
      });
    });

    describe("when the account was never registered", function () {
      it("reverts with RegistryUnknownMember", async function () {
        const { registry, officer, outsider } = await loadFixture(registryFixture);
        await expect(registry.connect(officer).reinstate(outsider.address))
          .to.be.revertedWithCustomError(registry, "RegistryUnknownMember")
          .withArgs(outsider.address);
        expect((await registry.member(outsider.address)).status).to.equal(STATUS.None);
      });
    });

    describe("when the member is active", function () {
      it("reverts with RegistryNotSuspended", async function () {
        const { registry, officer, supplier } = await loadFixture(registryFixture);
        await expect(registry.connect(officer).reinstate(supplier.address))
          .to.be.revertedWithCustomError(registry, "RegistryNotSuspended")
          .withArgs(supplier.address);
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Active);
      });
    });
  });

  describe(".isVerified()", function () {
    describe("when the member is active with valid KYC", function () {
      it("is true for each role it holds", async function () {
        const { registry, supplier, buyer, financier, auditor } = await loadFixture(registryFixture);
        const cases: Array<[HardhatEthersSigner, number]> = [
          [supplier, ROLE_BITS.supplier],
          [buyer, ROLE_BITS.buyer],
          [financier, ROLE_BITS.financier],
          [auditor, ROLE_BITS.auditor],
        ];
        for (const [who, role] of cases) {
          expect(await registry.isVerified(who.address, role)).to.equal(true);
        }
      });

      it("is false for a role it does not hold", async function () {
        const { registry, supplier, buyer, financier, auditor } = await loadFixture(registryFixture);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.buyer)).to.equal(false);
        expect(await registry.isVerified(buyer.address, ROLE_BITS.supplier)).to.equal(false);
        expect(await registry.isVerified(financier.address, ROLE_BITS.auditor)).to.equal(false);
        expect(await registry.isVerified(auditor.address, ROLE_BITS.financier)).to.equal(false);
      });

      it("is false for an empty role mask, even for a member holding every role", async function () {
        const { registry, operator, supplier, outsider, kycExpiry, entity } = await loadFixture(registryFixture);
        await registry.connect(operator).register(outsider.address, ALL_ROLES, kycExpiry, JURISDICTION_CN, entity);
        expect(await registry.isVerified(supplier.address, 0)).to.equal(false);
        expect(await registry.isVerified(outsider.address, 0)).to.equal(false);
      });

      it("is true for a combined mask only when every role in it is held", async function () {
        const { registry, buyer2, supplier } = await loadFixture(registryFixture);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.supplier | ROLE_BITS.buyer)).to.equal(true);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.supplier)).to.equal(true);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.buyer)).to.equal(true);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.supplier | ROLE_BITS.buyer | ROLE_BITS.financier)).to.equal(false);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier | ROLE_BITS.buyer)).to.equal(false);
        expect(await registry.isVerified(buyer2.address, ALL_ROLES)).to.equal(false);
      });

      it("is false for a mask with bits outside the defined roles", async function () {
        const { registry, buyer2 } = await loadFixture(registryFixture);
        expect(await registry.isVerified(buyer2.address, ROLE_BITS.supplier | 16)).to.equal(false);
        expect(await registry.isVerified(buyer2.address, 255)).to.equal(false);
      });
    });

    describe("when the account was never registered", function () {
      it("is false for every mask", async function () {
        const { registry, outsider } = await loadFixture(registryFixture);
        for (const mask of [0, ROLE_BITS.supplier, ROLE_BITS.buyer, ROLE_BITS.financier, ROLE_BITS.auditor, ALL_ROLES]) {
          expect(await registry.isVerified(outsider.address, mask)).to.equal(false);
        }
        expect(await registry.isVerified(ethers.ZeroAddress, ROLE_BITS.supplier)).to.equal(false);
      });
    });

    describe("when the member's KYC has expired", function () {
      it("is true just before the expiry and false from the expiry on", async function () {
        const { registry, supplier } = await loadFixture(registryFixture);
        const expiry = (await registry.member(supplier.address)).kycExpiry;
        await time.increaseTo(expiry - 2n);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(true);
        await time.increaseTo(expiry);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(false);
        await time.increaseTo(expiry + YEAR);
        expect(await registry.isVerified(supplier.address, ROLE_BITS.supplier)).to.equal(false);
        expect((await registry.member(supplier.address)).status).to.equal(STATUS.Active);
      });
    });

    describe("when the member is suspended", function () {
      it("is false, and true again once reinstated", async function () {
        const { registry, officer, financier } = await loadFixture(registryFixture);
        await registry.connect(officer).suspend(financier.address, REASON);
        expect(await registry.isVerified(financier.address, ROLE_BITS.financier)).to.equal(false);
        await registry.connect(officer).reinstate(financier.address);
        expect(await registry.isVerified(financier.address, ROLE_BITS.financier)).to.equal(true);
      });
    });
  });

  describe(".areActiveMembers()", function () {
    it("answers isActiveMember for both parties, in order", async function () {
      const { registry, officer, supplier, buyer, outsider } = await loadFixture(registryFixture);
      await registry.connect(officer).suspend(buyer.address, ethers.encodeBytes32String("AML"));
      expect(await registry.areActiveMembers(supplier.address, buyer.address)).to.deep.equal([true, false]);
      expect(await registry.areActiveMembers(outsider.address, supplier.address)).to.deep.equal([false, true]);
      expect(await registry.areActiveMembers(supplier.address, supplier.address)).to.deep.equal([true, true]);
    });
  });

  describe(".isActiveMember()", function () {
    describe("when the member is active with valid KYC", function () {
      it("is true whatever its roles", async function () {
        const { registry, supplier, buyer, buyer2, financier, auditor } = await loadFixture(registryFixture);
        for (const who of [supplier, buyer, buyer2, financier, auditor]) {
          expect(await registry.isActiveMember(who.address)).to.equal(true);
        }
      });
    });

    describe("when the account was never registered", function () {
      it("is false", async function () {
        const { registry, outsider } = await loadFixture(registryFixture);
        expect(await registry.isActiveMember(outsider.address)).to.equal(false);
        expect(await registry.isActiveMember(ethers.ZeroAddress)).to.equal(false);
      });
    });

    describe("when the member is suspended", function () {
      it("is false, and true again once reinstated", async function () {
        const { registry, officer, auditor } = await loadFixture(registryFixture);
        await registry.connect(officer).suspend(auditor.address, REASON);
        expect(await registry.isActiveMember(auditor.address)).to.equal(false);
        await registry.connect(officer).reinstate(auditor.address);
        expect(await registry.isActiveMember(auditor.address)).to.equal(true);
      });
    });

    describe("when the member's KYC has expired", function () {
      it("is false", async function () {
        const { registry, auditor } = await loadFixture(registryFixture);
        await time.increaseTo((await registry.member(auditor.address)).kycExpiry);
        expect(await registry.isActiveMember(auditor.address)).to.equal(false);
      });
    });
  });

  describe(".member()", function () {
    describe("when the account is a member", function () {
      it("returns the record the fixture registered", async function () {
        const { registry, buyer2 } = await loadFixture(registryFixture);
        const m = await memberOf(registry, buyer2.address);
        expect(m.roles).to.equal(BigInt(ROLE_BITS.buyer | ROLE_BITS.supplier));
        expect(m.status).to.equal(STATUS.Active);
        expect(m.kycExpiry).to.be.greaterThan(BigInt(await time.latest()));
        expect(m.jurisdiction).to.equal(JURISDICTION_CN);
        expect(m.entityIdHash).to.equal(entityIdHash(buyer2.address));
      });
    });

    describe("when the account was never registered", function () {
      it("returns an all-zero record", async function () {
        const { registry, outsider } = await loadFixture(registryFixture);
        expect(await memberOf(registry, outsider.address)).to.deep.equal({
          roles: 0n,
          status: STATUS.None,
          kycExpiry: 0n,
          jurisdiction: "0x0000",
          entityIdHash: ethers.ZeroHash,
        });
      });
    });
  });
});
