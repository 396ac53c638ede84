// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "../interfaces/ISettlementToken.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title SettlementToken
/// @notice Permissioned ERC-20 with two decimals. Every holder is an active member of the registry
/// with valid KYC; transfers to or from anyone else revert. EIP-2612 permits let a member authorise
/// a payment with a signature, so the service can relay it without holding the member's key.
contract SettlementToken is ISettlementToken, ERC20, ERC20Permit, ERC20Pausable, AccessControl {
    IParticipantRegistry private immutable _registry;

    /// @param name_ Token name (for example "Digital CNY (test)").
    /// @param symbol_ Token symbol.
    /// @param registry_ The participant registry that says who may hold the token.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE.
    /// @param issuer Holder of the ISSUER role.
    constructor(
        string memory name_,
        string memory symbol_,
        IParticipantRegistry registry_,
        address admin,
        address issuer
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(Roles.ISSUER, issuer);
        _grantRole(Roles.PAUSER, admin);
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
    function burn(address from, uint256 amount) external onlyRole(Roles.ISSUER) {
        _burn(from, amount);
    }

    /// @inheritdoc ISettlementToken
    function pause() external onlyRole(Roles.PAUSER) {
        _pause();
    }

    /// @inheritdoc ISettlementToken
    function unpause() external onlyRole(Roles.PAUSER) {
        _unpause();
    }

    /// @notice The registry consulted on every transfer.
    function registry() external view returns (IParticipantRegistry) {
        return _registry;
    }

    /// @dev Every recipient, and every sender except on a burn, must be an active member. A burn
    /// only needs the issuer's role: it is how a suspended member's balance is redeemed.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Pausable) {
        if (to != address(0) && !_registry.isActiveMember(to)) revert SettlementUnverifiedParty(to);
        if (from != address(0) && to != address(0) && !_registry.isActiveMember(from)) {
            revert SettlementUnverifiedParty(from);
        }
        super._update(from, to, value);
    }
}
