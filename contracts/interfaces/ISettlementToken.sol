// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Pause clock of a settlement asset
/// @notice Optional: a token that can be frozen says since when it is movable again, so a ledger
/// that takes any ERC-20 can stop a debtor's grace period from running out while nobody could pay.
/// A token without it (a plain ERC-20) is treated as never paused.
interface IPauseClock {
    /// @notice Whether every transfer is stopped now, and the unix time of the last unpause (zero
    /// when the token was never paused).
    function pauseClock() external view returns (bool isPaused, uint256 lastUnpausedAt);
}

/// @title Permissioned settlement token
/// @notice Stand-in for a digital-currency settlement asset (two decimals: one unit is one fen).
/// Only verified members, and the system accounts the admin names (the receivables ledger, which
/// holds payments its recipient cannot receive yet), may hold or move it. An issuer mints; a balance
/// leaves circulation only with its holder's consent (`redeem`, or `burnFrom` an allowance), or by
/// the enforcer's forced burn, which names its reason. A pauser can freeze it.
interface ISettlementToken is IPauseClock {
    /// @notice Thrown when a sender or recipient is not an active member with valid KYC.
    /// @param account The party that is not allowed to hold the token.
    error SettlementUnverifiedParty(address account);
    /// @notice Thrown when the zero address is named a system account.
    error SettlementInvalidSystemAccount(address account);
    /// @notice Thrown when a forced burn gives no reason code.
    error SettlementMissingReason();

    /// @notice Emitted when the admin allows or stops a system account.
    /// @param account The contract that may hold the token without being a member.
    /// @param allowed Whether it may.
    event SystemAccountSet(address indexed account, bool allowed);
    /// @notice Emitted when a balance is redeemed with its holder's consent.
    /// @param holder Whose balance was burned.
    /// @param by The holder itself (`redeem`) or the issuer spending the holder's allowance (`burnFrom`).
    /// @param amount Amount burned.
    event Redeemed(address indexed holder, address indexed by, uint256 amount);
    /// @notice Emitted when the enforcer burns a balance without the holder's consent.
    /// @param holder Whose balance was burned.
    /// @param enforcer The enforcer key.
    /// @param amount Amount burned.
    /// @param reasonCode Legal ground (for example a court order's reference hash; the service keeps the text).
    event ForcedBurn(address indexed holder, address indexed enforcer, uint256 amount, bytes32 indexed reasonCode);

    /// @notice Mints `amount` to `to` (a verified member). Issuer only.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` of the caller's own balance: redemption to the issuer. The caller
    /// must be an active member (a suspended member's balance is frozen, not cashed out).
    function redeem(uint256 amount) external;

    /// @notice Burns `amount` from `holder` within the allowance `holder` gave the issuer (its
    /// consent, by `approve` or a permit). Issuer only; `holder` must be an active member.
    function burnFrom(address holder, uint256 amount) external;

    /// @notice Burns `amount` from `holder` without its consent, naming the legal ground. Enforcer only.
    function forceBurn(address holder, uint256 amount, bytes32 reasonCode) external;

    /// @notice Lets `account` (a ledger contract) hold and send the token without being a member.
    /// It can only receive what it pulls itself, so nobody can send it tokens by mistake. Admin only.
    function setSystemAccount(address account, bool allowed) external;

    /// @notice True when `account` is a system account.
    function isSystemAccount(address account) external view returns (bool);

    /// @notice Stops every transfer, mint and burn. Pauser only.
    function pause() external;

    /// @notice Resumes transfers and records the time, read by `pauseClock`. Pauser only.
    function unpause() external;
}
