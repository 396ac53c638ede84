// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {LedgerImport} from "../common/LedgerImport.sol";
import {ISettlementImport} from "../interfaces/ILedgerImport.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IPauseClock, ISettlementToken} from "../interfaces/ISettlementToken.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title SettlementToken
/// @notice Permissioned ERC-20 with two decimals. Every holder is an active member of the registry
/// with valid KYC, or a system account the admin named (the receivables ledger holding payments);
/// transfers to or from anyone else revert. EIP-2612 permits let a member authorise a payment or a
/// redemption with a signature, so the service can relay it without holding the member's key.
/// Invariant: total supply = members' balances + system accounts' balances (the ledger's held payments).
contract SettlementToken is
    ISettlementToken,
    ISettlementImport,
    ERC20,
    ERC20Permit,
    ERC20Pausable,
    AccessControlDefaultAdminRules,
    LedgerImport
{
    IParticipantRegistry private immutable _registry;

    mapping(address account => bool) private _systemAccounts;
    uint48 private _lastUnpausedAt;

    /// @param name_ Token name (for example "Digital CNY (test)").
    /// @param symbol_ Token symbol.
    /// @param registry_ The participant registry that says who may hold the token.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (and of the pauser role).
    /// @param adminDelay Seconds a new admin waits before accepting the role (two-step transfer).
    /// @param issuer Holder of the ISSUER role.
    /// @param enforcer Holder of the ENFORCER role (forced burns).
    /// @param ledger The receivables ledger, the first system account (zero for none).
    /// @param migrator The key that imports a version-1 ledger until the seal, or zero for none
    /// (the import is then sealed from the start).
    constructor(
        string memory name_,
        string memory symbol_,
        IParticipantRegistry registry_,
        address admin,
        uint48 adminDelay,
        address issuer,
        address enforcer,
        address ledger,
        address migrator
    ) ERC20(name_, symbol_) ERC20Permit(name_) AccessControlDefaultAdminRules(adminDelay, admin) LedgerImport(migrator) {
        _registry = registry_;
        _grantRole(Roles.ISSUER, issuer);
        _grantRole(Roles.ENFORCER, enforcer);
        _grantRole(Roles.PAUSER, admin);
        if (ledger != address(0)) {
            _systemAccounts[ledger] = true;
            emit SystemAccountSet(ledger, true);
        }
    }

    /// @notice Two decimals: amounts are in fen.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @inheritdoc ISettlementToken
    function mint(address to, uint256 amount) external onlyRole(Roles.ISSUER) {
        _mint(to, amount);
    }

    /// @inheritdoc ISettlementToken
    function redeem(uint256 amount) external {
        _redeem(msg.sender, amount);
    }

    /// @inheritdoc ISettlementToken
    function burnFrom(address holder, uint256 amount) external onlyRole(Roles.ISSUER) {
        _spendAllowance(holder, msg.sender, amount);
        _redeem(holder, amount);
    }

    /// @inheritdoc ISettlementToken
    function forceBurn(address holder, uint256 amount, bytes32 reasonCode) external onlyRole(Roles.ENFORCER) {
        if (reasonCode == bytes32(0)) revert SettlementMissingReason();
        _burn(holder, amount);
        emit ForcedBurn(holder, msg.sender, amount, reasonCode);
    }

    /// @inheritdoc ISettlementToken
    function setSystemAccount(address account, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert SettlementInvalidSystemAccount(account);
        _systemAccounts[account] = allowed;
        emit SystemAccountSet(account, allowed);
    }

    /// @inheritdoc ISettlementToken
    function isSystemAccount(address account) external view returns (bool) {
        return _systemAccounts[account];
    }

    /// @inheritdoc ISettlementToken
    function pause() external onlyRole(Roles.PAUSER) {
        _pause();
    }

    /// @inheritdoc ISettlementToken
    function unpause() external onlyRole(Roles.PAUSER) {
        _unpause();
        _lastUnpausedAt = uint48(block.timestamp);
    }

    /// @inheritdoc IPauseClock
    function pauseClock() external view returns (bool isPaused, uint256 lastUnpausedAt) {
        return (paused(), _lastUnpausedAt);
    }

    /// @notice The registry consulted on every transfer.
    function registry() external view returns (IParticipantRegistry) {
        return _registry;
    }

    /// @inheritdoc AccessControlDefaultAdminRules
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @inheritdoc ISettlementImport
    /// @dev Mints through ERC20's own `_update`, past this token's membership and pause checks: a
    /// version-1 balance is carried whoever holds it.
    function importBalances(ImportedBalance[] calldata balances) external {
        _requireImporting();
        uint256 n = balances.length;
        for (uint256 i; i < n; ++i) {
            address holder = balances[i].holder;
            uint256 amount = balances[i].amount;
            uint256 key = uint256(uint160(holder));
            if (holder == address(0)) _malformed(key, ImportFault.Id);
            if (amount == 0) _malformed(key, ImportFault.Amount);
            if (balanceOf(holder) != 0) revert LedgerImportDuplicate(key);
            ERC20._update(address(0), holder, amount);
            emit BalanceImported(holder, amount);
        }
    }

    function _malformed(uint256 id, ImportFault fault) private pure {
        revert LedgerImportInvalidRecord(id, fault);
    }

    function _redeem(address holder, uint256 amount) private {
        if (!_registry.isActiveMember(holder)) revert SettlementUnverifiedParty(holder);
        _burn(holder, amount);
        emit Redeemed(holder, msg.sender, amount);
    }

    /// @dev Every recipient, and every sender except on a burn, must be an active member or a
    /// system account. A system account receives only what it pulls itself (it is the caller), so
    /// no member can strand tokens in it. Burns are checked by the functions that burn: redemption
    /// asks the registry, a forced burn is the enforcer's alone.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Pausable) {
        if (to != address(0)) {
            bool toActive;
            bool fromActive = true;
            if (from != address(0)) (toActive, fromActive) = _registry.areActiveMembers(to, from);
            else toActive = _registry.isActiveMember(to);
            if (!toActive && (!_systemAccounts[to] || _msgSender() != to)) revert SettlementUnverifiedParty(to);
            if (!fromActive && !_systemAccounts[from]) revert SettlementUnverifiedParty(from);
        }
        super._update(from, to, value);
    }
}
