/**
 * SettlementToken: a two-decimal ERC-20 that only active, KYC-valid registry members may hold or
 * move. Checked here: metadata, the issuer's mint and burn, member-only transfers (direct, via
 * allowance and via EIP-2612 permit), the pauser's freeze, and — as a fast-check model run — that
 * supply always equals the sum of balances and every balance matches a simple model.
 */
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import type { SettlementToken } from "../../typechain-types";
import { DEFAULT_PARAMS } from "../../scripts/lib/deploy-ledger";
import { FUNDING, ledgerFixture } from "./helpers/fixture";
import { PERMIT_TYPES } from "../../shared/eip712";
import { permitDomainOf } from "../../shared/permit";

const ISSUER = ethers.id("ISSUER");
const PAUSER = ethers.id("PAUSER");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const REASON = ethers.encodeBytes32String("AML_REVIEW");
const ENFORCER = ethers.id("ENFORCER");
const COURT_ORDER = ethers.encodeBytes32String("COURT_ORDER_2026_17");
const AMOUNT = 12_345_67n;

interface PermitValue {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

async function signPermit(
  token: SettlementToken,
  signer: HardhatEthersSigner,
  value: PermitValue
): Promise<{ v: number; r: string; s: string; signature: string }> {
  const signature = await signer.signTypedData(await permitDomainOf(token), PERMIT_TYPES, value);
  const { v, r, s } = ethers.Signature.from(signature);
  return { v, r, s, signature };
}

/** Sum of the balances of every signer; no contract holds tokens in these tests. */
async function sumOfBalances(token: SettlementToken): Promise<bigint> {
  let sum = 0n;
  for (const s of await ethers.getSigners()) sum += await token.balanceOf(s.address);
  return sum;
}

describe("SettlementToken", function () {
  describe("metadata", function () {
    it("has two decimals, the configured name and symbol, and points at the registry", async function () {
      const { token, registry } = await loadFixture(ledgerFixture);
      expect(await token.decimals()).to.equal(2n);
      expect(await token.name()).to.equal(DEFAULT_PARAMS.tokenName);
      expect(await token.symbol()).to.equal(DEFAULT_PARAMS.tokenSymbol);
      expect(await token.registry()).to.equal(await registry.getAddress());
    });

    it("gives the issuer role to the issuer and the pauser role to the admin", async function () {
      const { token, admin, issuer } = await loadFixture(ledgerFixture);
      expect(await token.hasRole(ISSUER, issuer.address)).to.equal(true);
      expect(await token.hasRole(PAUSER, admin.address)).to.equal(true);
      expect(await token.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await token.hasRole(ISSUER, admin.address)).to.equal(false);
      expect(await token.hasRole(PAUSER, issuer.address)).to.equal(false);
    });
  });

  describe(".mint()", function () {
    describe("when the issuer mints to a member", function () {
      it("emits Transfer from zero and raises balance and supply", async function () {
        const { token, issuer, supplier } = await loadFixture(ledgerFixture);
        const supply = await token.totalSupply();
        await expect(token.connect(issuer).mint(supplier.address, AMOUNT))
          .to.emit(token, "Transfer")
          .withArgs(ethers.ZeroAddress, supplier.address, AMOUNT);
        expect(await token.balanceOf(supplier.address)).to.equal(AMOUNT);
        expect(await token.totalSupply()).to.equal(supply + AMOUNT);
      });

      it("mints to a member of any role, an auditor included", async function () {
        const { token, issuer, auditor } = await loadFixture(ledgerFixture);
        await expect(token.connect(issuer).mint(auditor.address, 1n)).to.changeTokenBalance(token, auditor, 1n);
      });
    });

    describe("when the caller is not the issuer", function () {
      it("reverts with AccessControlUnauthorizedAccount for ISSUER", async function () {
        const { token, admin, buyer, outsider, supplier } = await loadFixture(ledgerFixture);
        const supply = await token.totalSupply();
        for (const caller of [admin, buyer, outsider]) {
          await expect(token.connect(caller).mint(supplier.address, AMOUNT))
            .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, ISSUER);
        }
        expect(await token.totalSupply()).to.equal(supply);
        expect(await token.balanceOf(supplier.address)).to.equal(0n);
      });
    });

    describe("when the recipient is not a member", function () {
      it("reverts with SettlementUnverifiedParty", async function () {
        const { token, issuer, outsider } = await loadFixture(ledgerFixture);
        const supply = await token.totalSupply();
        await expect(token.connect(issuer).mint(outsider.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(outsider.address);
        expect(await token.balanceOf(outsider.address)).to.equal(0n);
        expect(await token.totalSupply()).to.equal(supply);
      });
    });

    describe("when the recipient is suspended", function () {
      it("reverts with SettlementUnverifiedParty", async function () {
        const { token, registry, issuer, officer, supplier } = await loadFixture(ledgerFixture);
        await registry.connect(officer).suspend(supplier.address, REASON);
        await expect(token.connect(issuer).mint(supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(supplier.address);
      });
    });

    describe("when the recipient's KYC has expired", function () {
      it("reverts with SettlementUnverifiedParty", async function () {
        const { token, registry, issuer, supplier } = await loadFixture(ledgerFixture);
        await time.increaseTo((await registry.member(supplier.address)).kycExpiry);
        await expect(token.connect(issuer).mint(supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(supplier.address);
      });
    });

    describe("when the recipient is the zero address", function () {
      it("reverts with ERC20InvalidReceiver", async function () {
        const { token, issuer } = await loadFixture(ledgerFixture);
        await expect(token.connect(issuer).mint(ethers.ZeroAddress, AMOUNT))
          .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });
    });
  });

  describe(".redeem()", function () {
    describe("when a member redeems its own balance", function () {
      it("burns it, emits Redeemed naming the holder, and lowers the supply", async function () {
        const { token, buyer } = await loadFixture(ledgerFixture);
        const supply = await token.totalSupply();
        await expect(token.connect(buyer).redeem(AMOUNT))
          .to.emit(token, "Redeemed")
          .withArgs(buyer.address, buyer.address, AMOUNT)
          .and.to.emit(token, "Transfer")
          .withArgs(buyer.address, ethers.ZeroAddress, AMOUNT);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING - AMOUNT);
        expect(await token.totalSupply()).to.equal(supply - AMOUNT);
      });
    });

    describe("when the holder is suspended", function () {
      it("reverts with SettlementUnverifiedParty: a frozen balance is not cashed out", async function () {
        const { token, registry, officer, buyer } = await loadFixture(ledgerFixture);
        await registry.connect(officer).suspend(buyer.address, REASON);
        await expect(token.connect(buyer).redeem(AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(buyer.address);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });

    describe("when the amount exceeds the balance", function () {
      it("reverts with ERC20InsufficientBalance", async function () {
        const { token, buyer } = await loadFixture(ledgerFixture);
        await expect(token.connect(buyer).redeem(FUNDING + 1n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
          .withArgs(buyer.address, FUNDING, FUNDING + 1n);
      });
    });
  });

  describe(".burnFrom()", function () {
    describe("when the holder gave the issuer an allowance", function () {
      it("burns within it, spends it, and emits Redeemed naming the issuer", async function () {
        const { token, issuer, buyer } = await loadFixture(ledgerFixture);
        await token.connect(buyer).approve(issuer.address, AMOUNT);
        await expect(token.connect(issuer).burnFrom(buyer.address, AMOUNT))
          .to.emit(token, "Redeemed")
          .withArgs(buyer.address, issuer.address, AMOUNT);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING - AMOUNT);
        expect(await token.allowance(buyer.address, issuer.address)).to.equal(0n);
      });
    });

    describe("when the issuer burns without the holder's consent", function () {
      it("reverts with ERC20InsufficientAllowance and the balance stays", async function () {
        const { token, issuer, buyer } = await loadFixture(ledgerFixture);
        await expect(token.connect(issuer).burnFrom(buyer.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(issuer.address, 0n, AMOUNT);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });

      it("reverts beyond the allowance given", async function () {
        const { token, issuer, buyer } = await loadFixture(ledgerFixture);
        await token.connect(buyer).approve(issuer.address, AMOUNT - 1n);
        await expect(token.connect(issuer).burnFrom(buyer.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(issuer.address, AMOUNT - 1n, AMOUNT);
      });
    });

    describe("when the caller is not the issuer", function () {
      it("reverts with AccessControlUnauthorizedAccount for ISSUER, even with an allowance", async function () {
        const { token, admin, buyer, outsider } = await loadFixture(ledgerFixture);
        for (const caller of [admin, outsider]) {
          await token.connect(buyer).approve(caller.address, AMOUNT);
          await expect(token.connect(caller).burnFrom(buyer.address, AMOUNT))
            .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, ISSUER);
        }
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });
  });

  describe(".forceBurn()", function () {
    describe("when the enforcer burns with a reason", function () {
      it("burns without consent and emits ForcedBurn with the reason code", async function () {
        const { token, registry, officer, admin, buyer } = await loadFixture(ledgerFixture);
        await registry.connect(officer).suspend(buyer.address, REASON);
        await expect(token.connect(admin).forceBurn(buyer.address, AMOUNT, COURT_ORDER))
          .to.emit(token, "ForcedBurn")
          .withArgs(buyer.address, admin.address, AMOUNT, COURT_ORDER);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING - AMOUNT);
      });
    });

    describe("when no reason is given", function () {
      it("reverts with SettlementMissingReason", async function () {
        const { token, admin, buyer } = await loadFixture(ledgerFixture);
        await expect(token.connect(admin).forceBurn(buyer.address, AMOUNT, ethers.ZeroHash)).to.be.revertedWithCustomError(
          token,
          "SettlementMissingReason",
        );
      });
    });

    describe("when the issuer tries it", function () {
      it("reverts with AccessControlUnauthorizedAccount for ENFORCER: issuing is not confiscating", async function () {
        const { token, issuer, buyer } = await loadFixture(ledgerFixture);
        await expect(token.connect(issuer).forceBurn(buyer.address, AMOUNT, COURT_ORDER))
          .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
          .withArgs(issuer.address, ENFORCER);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });
  });

  describe(".setSystemAccount()", function () {
    describe("when deployed", function () {
      it("already allows the receivables ledger", async function () {
        const { token, receivables } = await loadFixture(ledgerFixture);
        expect(await token.isSystemAccount(await receivables.getAddress())).to.equal(true);
      });
    });

    describe("when a member sends tokens to a system account", function () {
      it("reverts with SettlementUnverifiedParty: it only receives what it pulls", async function () {
        const { token, receivables, buyer } = await loadFixture(ledgerFixture);
        const ledger = await receivables.getAddress();
        await expect(token.connect(buyer).transfer(ledger, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(ledger);
      });
    });

    describe("when the admin sets one", function () {
      it("emits SystemAccountSet and can stop it again", async function () {
        const { token, admin, outsider } = await loadFixture(ledgerFixture);
        await expect(token.connect(admin).setSystemAccount(outsider.address, true))
          .to.emit(token, "SystemAccountSet")
          .withArgs(outsider.address, true);
        expect(await token.isSystemAccount(outsider.address)).to.equal(true);
        await token.connect(admin).setSystemAccount(outsider.address, false);
        expect(await token.isSystemAccount(outsider.address)).to.equal(false);
      });

      it("reverts for the zero address with SettlementInvalidSystemAccount", async function () {
        const { token, admin } = await loadFixture(ledgerFixture);
        await expect(token.connect(admin).setSystemAccount(ethers.ZeroAddress, true))
          .to.be.revertedWithCustomError(token, "SettlementInvalidSystemAccount")
          .withArgs(ethers.ZeroAddress);
      });
    });
  });

  describe(".pauseClock()", function () {
    it("reports the pause and the time of the last unpause", async function () {
      const { token, admin } = await loadFixture(ledgerFixture);
      expect(await token.pauseClock()).to.deep.equal([false, 0n]);
      await token.connect(admin).pause();
      expect((await token.pauseClock())[0]).to.equal(true);
      await token.connect(admin).unpause();
      expect(await token.pauseClock()).to.deep.equal([false, BigInt(await time.latest())]);
    });
  });

  describe("admin (AccessControlDefaultAdminRules)", function () {
    describe("when the admin role is granted directly", function () {
      it("reverts with AccessControlEnforcedDefaultAdminRules", async function () {
        const { token, admin, outsider } = await loadFixture(ledgerFixture);
        await expect(token.connect(admin).grantRole(ethers.ZeroHash, outsider.address)).to.be.revertedWithCustomError(
          token,
          "AccessControlEnforcedDefaultAdminRules",
        );
      });
    });

    describe("when the new admin accepts before the delay", function () {
      it("reverts with AccessControlEnforcedDefaultAdminDelay, and succeeds after it", async function () {
        const { token, admin, outsider } = await loadFixture(ledgerFixture);
        expect(await token.defaultAdminDelay()).to.equal(DEFAULT_PARAMS.adminDelay);
        await token.connect(admin).beginDefaultAdminTransfer(outsider.address);
        const [, schedule] = await token.pendingDefaultAdmin();
        await expect(token.connect(outsider).acceptDefaultAdminTransfer())
          .to.be.revertedWithCustomError(token, "AccessControlEnforcedDefaultAdminDelay")
          .withArgs(schedule);
        await time.increaseTo(schedule + 1n);
        await token.connect(outsider).acceptDefaultAdminTransfer();
        expect(await token.defaultAdmin()).to.equal(outsider.address);
      });
    });
  });

  describe(".transfer()", function () {
    describe("when both parties are active members", function () {
      it("moves the amount and emits Transfer", async function () {
        const { token, buyer, supplier } = await loadFixture(ledgerFixture);
        const supply = await token.totalSupply();
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT))
          .to.emit(token, "Transfer")
          .withArgs(buyer.address, supplier.address, AMOUNT);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING - AMOUNT);
        expect(await token.balanceOf(supplier.address)).to.equal(AMOUNT);
        expect(await token.totalSupply()).to.equal(supply);
      });
    });

    describe("when the recipient is not a member", function () {
      it("reverts with SettlementUnverifiedParty(recipient)", async function () {
        const { token, buyer, outsider } = await loadFixture(ledgerFixture);
        await expect(token.connect(buyer).transfer(outsider.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(outsider.address);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
        expect(await token.balanceOf(outsider.address)).to.equal(0n);
      });
    });

    describe("when the sender is suspended", function () {
      it("reverts with SettlementUnverifiedParty(sender), and works again once reinstated", async function () {
        const { token, registry, officer, buyer, supplier } = await loadFixture(ledgerFixture);
        await registry.connect(officer).suspend(buyer.address, REASON);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(buyer.address);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
        await registry.connect(officer).reinstate(buyer.address);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT)).to.changeTokenBalances(
          token,
          [buyer, supplier],
          [-AMOUNT, AMOUNT]
        );
      });
    });

    describe("when the recipient is suspended", function () {
      it("reverts with SettlementUnverifiedParty(recipient)", async function () {
        const { token, registry, officer, buyer, supplier } = await loadFixture(ledgerFixture);
        await registry.connect(officer).suspend(supplier.address, REASON);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(supplier.address);
        expect(await token.balanceOf(supplier.address)).to.equal(0n);
      });
    });

    describe("when the recipient's KYC has expired", function () {
      it("reverts with SettlementUnverifiedParty(recipient), and works again once renewed", async function () {
        const { token, registry, officer, buyer, supplier } = await loadFixture(ledgerFixture);
        const supplierExpiry = (await registry.member(supplier.address)).kycExpiry;
        // Keep the sender valid so only the recipient's expiry is in play.
        await registry.connect(officer).renewKyc(buyer.address, supplierExpiry + 365n * 24n * 3600n);
        await time.increaseTo(supplierExpiry);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(supplier.address);
        expect(await token.balanceOf(supplier.address)).to.equal(0n);
        await registry.connect(officer).renewKyc(supplier.address, BigInt(await time.latest()) + 1000n);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT)).to.changeTokenBalance(
          token,
          supplier,
          AMOUNT
        );
      });
    });

    describe("when the sender's KYC has expired", function () {
      it("reverts with SettlementUnverifiedParty(sender)", async function () {
        const { token, registry, officer, buyer, supplier } = await loadFixture(ledgerFixture);
        const buyerExpiry = (await registry.member(buyer.address)).kycExpiry;
        await registry.connect(officer).renewKyc(supplier.address, buyerExpiry + 365n * 24n * 3600n);
        await time.increaseTo(buyerExpiry);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(buyer.address);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });

    describe("when the amount exceeds the balance", function () {
      it("reverts with ERC20InsufficientBalance", async function () {
        const { token, buyer, supplier } = await loadFixture(ledgerFixture);
        await expect(token.connect(buyer).transfer(supplier.address, FUNDING + 1n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
          .withArgs(buyer.address, FUNDING, FUNDING + 1n);
      });
    });
  });

  describe(".transferFrom()", function () {
    describe("when the spender has enough allowance and both parties are members", function () {
      it("moves the amount and spends the allowance", async function () {
        const { token, buyer, supplier, financier } = await loadFixture(ledgerFixture);
        await expect(token.connect(buyer).approve(financier.address, 2n * AMOUNT))
          .to.emit(token, "Approval")
          .withArgs(buyer.address, financier.address, 2n * AMOUNT);
        await expect(token.connect(financier).transferFrom(buyer.address, supplier.address, AMOUNT))
          .to.emit(token, "Transfer")
          .withArgs(buyer.address, supplier.address, AMOUNT);
        expect(await token.allowance(buyer.address, financier.address)).to.equal(AMOUNT);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING - AMOUNT);
        expect(await token.balanceOf(supplier.address)).to.equal(AMOUNT);
      });
    });

    describe("when the allowance is too small", function () {
      it("reverts with ERC20InsufficientAllowance", async function () {
        const { token, buyer, supplier, financier } = await loadFixture(ledgerFixture);
        await token.connect(buyer).approve(financier.address, AMOUNT - 1n);
        await expect(token.connect(financier).transferFrom(buyer.address, supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(financier.address, AMOUNT - 1n, AMOUNT);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });

    describe("when the recipient is not a member", function () {
      it("reverts with SettlementUnverifiedParty and keeps the allowance", async function () {
        const { token, buyer, financier, outsider } = await loadFixture(ledgerFixture);
        await token.connect(buyer).approve(financier.address, AMOUNT);
        await expect(token.connect(financier).transferFrom(buyer.address, outsider.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(outsider.address);
        expect(await token.allowance(buyer.address, financier.address)).to.equal(AMOUNT);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });

    describe("when the owner is suspended", function () {
      it("reverts with SettlementUnverifiedParty(owner)", async function () {
        const { token, registry, officer, buyer, supplier, financier } = await loadFixture(ledgerFixture);
        await token.connect(buyer).approve(financier.address, AMOUNT);
        await registry.connect(officer).suspend(buyer.address, REASON);
        await expect(token.connect(financier).transferFrom(buyer.address, supplier.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(buyer.address);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });
  });

  describe(".pause() / .unpause()", function () {
    describe("when the pauser (admin) pauses", function () {
      it("emits Paused and refuses transfer, transferFrom, mint and burn with EnforcedPause", async function () {
        const { token, admin, issuer, buyer, supplier, financier } = await loadFixture(ledgerFixture);
        await token.connect(buyer).approve(financier.address, AMOUNT);
        const supply = await token.totalSupply();
        await expect(token.connect(admin).pause()).to.emit(token, "Paused").withArgs(admin.address);
        expect(await token.paused()).to.equal(true);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT)).to.be.revertedWithCustomError(
          token,
          "EnforcedPause"
        );
        await expect(
          token.connect(financier).transferFrom(buyer.address, supplier.address, AMOUNT)
        ).to.be.revertedWithCustomError(token, "EnforcedPause");
        await expect(token.connect(issuer).mint(supplier.address, AMOUNT)).to.be.revertedWithCustomError(
          token,
          "EnforcedPause"
        );
        await expect(token.connect(buyer).redeem(AMOUNT)).to.be.revertedWithCustomError(token, "EnforcedPause");
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
        expect(await token.balanceOf(supplier.address)).to.equal(0n);
        expect(await token.totalSupply()).to.equal(supply);
        expect(await token.allowance(buyer.address, financier.address)).to.equal(AMOUNT);
      });

      it("reverts with EnforcedPause when paused again", async function () {
        const { token, admin } = await loadFixture(ledgerFixture);
        await token.connect(admin).pause();
        await expect(token.connect(admin).pause()).to.be.revertedWithCustomError(token, "EnforcedPause");
      });
    });

    describe("when the pauser unpauses", function () {
      it("emits Unpaused and transfers, mint and burn work again", async function () {
        const { token, admin, issuer, buyer, supplier } = await loadFixture(ledgerFixture);
        await token.connect(admin).pause();
        await expect(token.connect(admin).unpause()).to.emit(token, "Unpaused").withArgs(admin.address);
        expect(await token.paused()).to.equal(false);
        await expect(token.connect(buyer).transfer(supplier.address, AMOUNT)).to.changeTokenBalances(
          token,
          [buyer, supplier],
          [-AMOUNT, AMOUNT]
        );
        await expect(token.connect(issuer).mint(supplier.address, AMOUNT)).to.changeTokenBalance(
          token,
          supplier,
          AMOUNT
        );
        await expect(token.connect(supplier).redeem(AMOUNT)).to.changeTokenBalance(
          token,
          supplier,
          -AMOUNT
        );
      });

      it("reverts with ExpectedPause when not paused", async function () {
        const { token, admin } = await loadFixture(ledgerFixture);
        await expect(token.connect(admin).unpause()).to.be.revertedWithCustomError(token, "ExpectedPause");
      });
    });

    describe("when the caller is not the pauser", function () {
      it("refuses pause with AccessControlUnauthorizedAccount for PAUSER", async function () {
        const { token, issuer, buyer, outsider } = await loadFixture(ledgerFixture);
        for (const caller of [issuer, buyer, outsider]) {
          await expect(token.connect(caller).pause())
            .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, PAUSER);
        }
        expect(await token.paused()).to.equal(false);
      });

      it("refuses unpause with AccessControlUnauthorizedAccount for PAUSER", async function () {
        const { token, admin, issuer, outsider } = await loadFixture(ledgerFixture);
        await token.connect(admin).pause();
        for (const caller of [issuer, outsider]) {
          await expect(token.connect(caller).unpause())
            .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, PAUSER);
        }
        expect(await token.paused()).to.equal(true);
      });
    });

    describe("when the admin grants the pauser role to another account", function () {
      it("lets that account pause", async function () {
        const { token, admin, officer } = await loadFixture(ledgerFixture);
        await token.connect(admin).grantRole(PAUSER, officer.address);
        await expect(token.connect(officer).pause()).to.emit(token, "Paused").withArgs(officer.address);
      });
    });
  });

  describe(".permit()", function () {
    describe("when the owner signs a valid permit", function () {
      it("sets the allowance, bumps the nonce and lets the spender pull the funds", async function () {
        const { token, buyer, supplier, financier, outsider } = await loadFixture(ledgerFixture);
        const domain = await permitDomainOf(token);
        expect(domain.name).to.equal(DEFAULT_PARAMS.tokenName);
        expect(domain.version).to.equal("1");
        expect(domain.chainId).to.equal((await ethers.provider.getNetwork()).chainId);
        expect(domain.verifyingContract).to.equal(await token.getAddress());
        expect(await token.DOMAIN_SEPARATOR()).to.equal(ethers.TypedDataEncoder.hashDomain(domain));

        const value: PermitValue = {
          owner: buyer.address,
          spender: financier.address,
          value: AMOUNT,
          nonce: await token.nonces(buyer.address),
          deadline: BigInt(await time.latest()) + 3600n,
        };
        expect(value.nonce).to.equal(0n);
        const { v, r, s } = await signPermit(token, buyer, value);
        // Anyone may relay the signed permit; here a non-member pays the gas.
        await expect(token.connect(outsider).permit(value.owner, value.spender, value.value, value.deadline, v, r, s))
          .to.emit(token, "Approval")
          .withArgs(buyer.address, financier.address, AMOUNT);
        expect(await token.allowance(buyer.address, financier.address)).to.equal(AMOUNT);
        expect(await token.nonces(buyer.address)).to.equal(1n);
        await expect(
          token.connect(financier).transferFrom(buyer.address, supplier.address, AMOUNT)
        ).to.changeTokenBalances(token, [buyer, supplier], [-AMOUNT, AMOUNT]);
      });
    });

    describe("when a used permit is replayed", function () {
      it("reverts with ERC2612InvalidSigner and leaves the allowance", async function () {
        const { token, buyer, financier } = await loadFixture(ledgerFixture);
        const value: PermitValue = {
          owner: buyer.address,
          spender: financier.address,
          value: AMOUNT,
          nonce: 0n,
          deadline: BigInt(await time.latest()) + 3600n,
        };
        const { v, r, s, signature } = await signPermit(token, buyer, value);
        await token.permit(value.owner, value.spender, value.value, value.deadline, v, r, s);
        await token.connect(financier).transferFrom(buyer.address, financier.address, 1n);
        // The contract now hashes nonce 1, so the old signature recovers to an unrelated address.
        const recovered = ethers.verifyTypedData(
          await permitDomainOf(token),
          PERMIT_TYPES,
          { ...value, nonce: 1n },
          signature
        );
        await expect(token.permit(value.owner, value.spender, value.value, value.deadline, v, r, s))
          .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
          .withArgs(recovered, buyer.address);
        expect(await token.allowance(buyer.address, financier.address)).to.equal(AMOUNT - 1n);
        expect(await token.nonces(buyer.address)).to.equal(1n);
      });
    });

    describe("when the permit is signed by someone other than the owner", function () {
      it("reverts with ERC2612InvalidSigner(signer, owner)", async function () {
        const { token, buyer, financier } = await loadFixture(ledgerFixture);
        const value: PermitValue = {
          owner: buyer.address,
          spender: financier.address,
          value: AMOUNT,
          nonce: 0n,
          deadline: BigInt(await time.latest()) + 3600n,
        };
        const { v, r, s } = await signPermit(token, financier, value);
        await expect(token.permit(value.owner, value.spender, value.value, value.deadline, v, r, s))
          .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
          .withArgs(financier.address, buyer.address);
        expect(await token.allowance(buyer.address, financier.address)).to.equal(0n);
      });
    });

    describe("when the deadline has passed", function () {
      it("reverts with ERC2612ExpiredSignature", async function () {
        const { token, buyer, financier } = await loadFixture(ledgerFixture);
        const value: PermitValue = {
          owner: buyer.address,
          spender: financier.address,
          value: AMOUNT,
          nonce: 0n,
          deadline: BigInt(await time.latest()) + 60n,
        };
        const { v, r, s } = await signPermit(token, buyer, value);
        await time.increaseTo(value.deadline + 1n);
        await expect(token.permit(value.owner, value.spender, value.value, value.deadline, v, r, s))
          .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
          .withArgs(value.deadline);
        expect(await token.nonces(buyer.address)).to.equal(0n);
      });
    });

    describe("when the permit grants a non-member spender", function () {
      it("sets the allowance, but the spender still cannot move funds to itself", async function () {
        const { token, buyer, outsider } = await loadFixture(ledgerFixture);
        const value: PermitValue = {
          owner: buyer.address,
          spender: outsider.address,
          value: AMOUNT,
          nonce: 0n,
          deadline: BigInt(await time.latest()) + 3600n,
        };
        const { v, r, s } = await signPermit(token, buyer, value);
        await token.permit(value.owner, value.spender, value.value, value.deadline, v, r, s);
        await expect(token.connect(outsider).transferFrom(buyer.address, outsider.address, AMOUNT))
          .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
          .withArgs(outsider.address);
        expect(await token.balanceOf(buyer.address)).to.equal(FUNDING);
      });
    });
  });

  describe("invariant: supply equals the sum of balances", function () {
    it("holds after a fixed sequence of mints, transfers, burns and a refused transfer", async function () {
      const { token, registry, officer, issuer, admin, buyer, supplier, supplier2, financier, outsider } = await loadFixture(
        ledgerFixture
      );
      await token.connect(issuer).mint(supplier.address, 500_00n);
      await token.connect(buyer).transfer(supplier.address, 1_000_00n);
      await token.connect(supplier).transfer(supplier2.address, 250_00n);
      await token.connect(financier).redeem(3_000_00n);
      await expect(token.connect(supplier2).transfer(outsider.address, 1n)).to.be.revertedWithCustomError(
        token,
        "SettlementUnverifiedParty"
      );
      await registry.connect(officer).suspend(supplier2.address, REASON);
      await token.connect(admin).forceBurn(supplier2.address, 250_00n, COURT_ORDER);
      expect(await token.balanceOf(supplier.address)).to.equal(1_250_00n);
      expect(await token.balanceOf(supplier2.address)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(4n * FUNDING + 500_00n - 3_000_00n - 250_00n);
      expect(await token.totalSupply()).to.equal(await sumOfBalances(token));
    });

    it("holds, and every balance matches a model, over random operation sequences", async function () {
      const base = await loadFixture(ledgerFixture);
      const { token, registry, issuer, officer } = base;
      // Four members (buyer and financier funded, suppliers empty) and one non-member.
      const parties = [base.buyer, base.financier, base.supplier, base.supplier2, base.outsider];
      const op = fc.oneof(
        fc.record({ kind: fc.constant("mint" as const), to: fc.nat(4), amount: fc.bigInt(1n, 1_000_000_00n) }),
        fc.record({ kind: fc.constant("burn" as const), from: fc.nat(4), amount: fc.bigInt(1n, 20_000_000_00n) }),
        fc.record({
          kind: fc.constant("transfer" as const),
          from: fc.nat(4),
          to: fc.nat(4),
          amount: fc.bigInt(0n, 20_000_000_00n),
        }),
        fc.record({ kind: fc.constant("toggleSuspension" as const), who: fc.nat(3) })
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          await loadFixture(ledgerFixture);
          const balance = new Map<string, bigint>();
          for (const p of parties) balance.set(p.address, await token.balanceOf(p.address));
          const suspended = new Set<string>();
          const isMember = (i: number) => i < 4 && !suspended.has(parties[i].address);
          for (const o of ops) {
            if (o.kind === "mint") {
              const to = parties[o.to];
              const tx = token.connect(issuer).mint(to.address, o.amount);
              if (isMember(o.to)) {
                await tx;
                balance.set(to.address, balance.get(to.address)! + o.amount);
              } else {
                await expect(tx).to.be.revertedWithCustomError(token, "SettlementUnverifiedParty").withArgs(to.address);
              }
            } else if (o.kind === "burn") {
              const from = parties[o.from];
              const held = balance.get(from.address)!;
              const tx = token.connect(base.admin).forceBurn(from.address, o.amount, COURT_ORDER);
              if (o.amount <= held) {
                await tx;
                balance.set(from.address, held - o.amount);
              } else {
                await expect(tx)
                  .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
                  .withArgs(from.address, held, o.amount);
              }
            } else if (o.kind === "transfer") {
              const from = parties[o.from];
              const to = parties[o.to];
              const held = balance.get(from.address)!;
              const tx = token.connect(from).transfer(to.address, o.amount);
              if (!isMember(o.to)) {
                await expect(tx).to.be.revertedWithCustomError(token, "SettlementUnverifiedParty").withArgs(to.address);
              } else if (!isMember(o.from)) {
                await expect(tx)
                  .to.be.revertedWithCustomError(token, "SettlementUnverifiedParty")
                  .withArgs(from.address);
              } else if (o.amount > held) {
                await expect(tx).to.be.revertedWithCustomError(token, "ERC20InsufficientBalance");
              } else {
                await tx;
                balance.set(from.address, held - o.amount);
                balance.set(to.address, balance.get(to.address)! + o.amount);
              }
            } else {
              const who = parties[o.who].address;
              if (suspended.has(who)) {
                await registry.connect(officer).reinstate(who);
                suspended.delete(who);
              } else {
                await registry.connect(officer).suspend(who, REASON);
                suspended.add(who);
              }
            }
          }
          for (const p of parties) expect(await token.balanceOf(p.address)).to.equal(balance.get(p.address));
          expect(await token.totalSupply()).to.equal(await sumOfBalances(token));
        }),
        { numRuns: 25 }
      );
    });
  });
});
