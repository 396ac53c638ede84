// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ISignedActions} from "./ISignedActions.sol";

/// @title Payments held for their recipient
/// @notice A debtor can always pay on time. When a payment's recipient (the holder, or the
/// supplier owed a financing reserve) cannot receive the settlement token at that moment
/// (suspended, KYC past, no longer a member), the ledger pulls the amount from the debtor into its
/// own balance and holds it for the recipient; the payment counts at once and the receivable's state
/// moves. The recipient claims it (pull) once it can receive again.
/// Invariant: the ledger's token balance equals the sum of everything held.
interface IHeldPayments is ISignedActions {
    /// @notice Thrown when claiming with nothing held.
    /// @param account The would-be recipient.
    error ReceivableNothingHeld(address account);
    /// @notice Thrown when a default is marked while the settlement token is paused: nobody can pay.
    /// @param token The paused settlement token.
    error ReceivableSettlementPaused(address token);

    /// @notice Emitted when a payment is held for a recipient that could not receive it.
    /// @param id The receivable paid.
    /// @param recipient Whom the payment is for.
    /// @param amount The amount held.
    event PaymentHeld(uint256 indexed id, address indexed recipient, uint256 amount);
    /// @notice Emitted when a recipient takes everything held for it.
    /// @param recipient The recipient, paid in the settlement token.
    /// @param amount The amount paid out.
    event PaymentClaimed(address indexed recipient, uint256 amount);

    /// @notice Pays the caller everything held for it. The caller must be an active member.
    function claim() external returns (uint256 amount);

    /// @notice Claim authorised by `recipient`'s signature; the money still goes to `recipient`.
    function claimBySig(address recipient, Authorization calldata auth) external returns (uint256 amount);

    /// @notice The amount held for `account`.
    function heldFor(address account) external view returns (uint256);
}
