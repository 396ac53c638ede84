// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Permissioned settlement token
/// @notice Stand-in for a digital-currency settlement asset (two decimals: one unit is one fen).
/// Only verified members may hold or move it; an issuer mints and burns; a pauser can freeze it.
interface ISettlementToken {
    /// @notice Thrown when a sender or recipient is not an active member with valid KYC.
    /// @param account The party that is not allowed to hold the token.
    error SettlementUnverifiedParty(address account);

    /// @notice Mints `amount` to `to` (a verified member). Issuer only.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` from `from`: redemption of a member's balance to the issuer. Issuer only.
    function burn(address from, uint256 amount) external;

    /// @notice Stops every transfer, mint and burn. Pauser only.
    function pause() external;

    /// @notice Resumes transfers. Pauser only.
    function unpause() external;
}
