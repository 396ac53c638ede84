// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ISignedActions} from "./ISignedActions.sol";

/// @title Receivables ledger
/// @notice One ERC-721 token per receivable: a buyer's debt to a supplier for an invoice.
/// The token id is the invoice fingerprint (a salted hash of the normalised seller tax id, buyer tax
/// id, invoice number, issue date and amount), so a fingerprint can be tokenised once, ever, on the
/// whole ledger: that is what stops double financing. Children of a split get ids derived from the
/// parent id and their index.
/// Lifecycle: Issued -> Accepted (by the debtor, irrevocable) -> optionally Split / transferred ->
/// Financed -> Paid (in part or in full) or Defaulted; Cancelled only before acceptance.
interface IReceivables is ISignedActions {
    /// @notice Where a receivable is in its lifecycle. `None` means the id was never used.
    enum Status {
        None,
        Issued,
        Accepted,
        Financed,
        Paid,
        Defaulted,
        Cancelled,
        Split
    }

    /// @notice An invoice to tokenise.
    /// @param debtor The buyer that owes the amount.
    /// @param faceValue Amount in the settlement token's smallest unit (fen).
    /// @param dueDate Unix time the buyer must pay by.
    /// @param documentHash SHA-256 of the invoice document kept off-chain.
    /// @param fingerprint Salted hash of the normalised invoice identity; becomes the token id.
    struct Invoice {
        address debtor;
        uint256 faceValue;
        uint256 dueDate;
        bytes32 documentHash;
        bytes32 fingerprint;
    }

    /// @notice A receivable as readers see it.
    struct ReceivableView {
        uint256 id;
        address holder;
        address debtor;
        uint256 faceValue;
        uint256 outstanding;
        uint256 dueDate;
        Status status;
        bool financed;
        uint256 parentId;
    }

    /// @notice Thrown when an actor is not verified (active, KYC valid) in the role the act needs.
    /// @param account The actor or counterparty.
    /// @param roleMask The registry role bits it lacks.
    error ReceivableUnverifiedParty(address account, uint8 roleMask);
    /// @notice Thrown when the fingerprint (or a derived child id) has been used before.
    /// @param id The token id, equal to the fingerprint for tokenised invoices.
    error ReceivableDuplicate(uint256 id);
    /// @notice Thrown when the seller names itself as debtor.
    error ReceivableSelfDealing(address account);
    /// @notice Thrown when an amount is zero or does not fit the 64-bit ledger amount.
    error ReceivableInvalidAmount(uint256 amount);
    /// @notice Thrown when the due date is not in the future or more than one year out.
    error ReceivableInvalidDueDate(uint256 dueDate, uint256 earliest, uint256 latest);
    /// @notice Thrown for a zero fingerprint or document hash.
    error ReceivableInvalidHash();
    /// @notice Thrown when the receivable does not exist.
    error ReceivableNotFound(uint256 id);
    /// @notice Thrown when the act is not allowed in the receivable's current status.
    error ReceivableInvalidStatus(uint256 id, Status status);
    /// @notice Thrown when the caller is not the party the act belongs to.
    /// @param id The receivable.
    /// @param account The caller (or signer).
    error ReceivableUnauthorized(uint256 id, address account);
    /// @notice Thrown when an amount exceeds what is outstanding.
    error ReceivableAmountExceedsOutstanding(uint256 id, uint256 amount, uint256 outstanding);
    /// @notice Thrown when split amounts do not sum to the outstanding amount.
    error ReceivableSplitSumMismatch(uint256 id, uint256 sum, uint256 outstanding);
    /// @notice Thrown when a split has fewer than two or more than MAX_SPLIT_CHILDREN parts.
    error ReceivableInvalidSplitCount(uint256 count);
    /// @notice Thrown when a split part is below the minimum denomination.
    error ReceivableBelowMinimumDenomination(uint256 amount, uint256 minimum);
    /// @notice Thrown when a receivable is marked defaulted before its grace period ends.
    error ReceivableNotOverdue(uint256 id, uint256 overdueAt);
    /// @notice Thrown when a batch is empty or longer than MAX_BATCH.
    error ReceivableInvalidBatchSize(uint256 size);

    /// @notice Emitted when an invoice is tokenised.
    /// @param id Token id (equal to the fingerprint).
    /// @param seller The supplier that tokenised it, its first holder.
    /// @param debtor The buyer.
    /// @param faceValue Amount owed.
    /// @param dueDate Unix due date.
    /// @param documentHash SHA-256 of the invoice document.
    event ReceivableTokenised(
        uint256 indexed id,
        address indexed seller,
        address indexed debtor,
        uint256 faceValue,
        uint256 dueDate,
        bytes32 documentHash
    );
    /// @notice Emitted when the debtor accepts the receivable (irrevocable).
    /// @param id The receivable.
    /// @param debtor The buyer.
    event ReceivableAccepted(uint256 indexed id, address indexed debtor);
    /// @notice Emitted when the seller cancels an unaccepted receivable.
    /// @param id The receivable.
    /// @param seller The seller.
    event ReceivableCancelled(uint256 indexed id, address indexed seller);
    /// @notice Emitted when a credit note lowers the outstanding amount.
    /// @param id The receivable.
    /// @param holder The holder that issued it.
    /// @param amount The credited amount.
    /// @param outstanding The outstanding amount after the credit note.
    /// @param creditNoteHash SHA-256 of the credit note document.
    event CreditNoteApplied(
        uint256 indexed id,
        address indexed holder,
        uint256 amount,
        uint256 outstanding,
        bytes32 creditNoteHash
    );
    /// @notice Emitted once per child when a receivable is split.
    /// @param parentId The split receivable.
    /// @param childId The new child.
    /// @param holder The holder of parent and child.
    /// @param amount The child's face value.
    event ReceivableSplit(uint256 indexed parentId, uint256 indexed childId, address indexed holder, uint256 amount);
    /// @notice Emitted when the financing module assigns a receivable to a financier.
    /// @param id The receivable.
    /// @param from The previous holder (the supplier that was financed).
    /// @param financier The new holder.
    event ReceivableAssigned(uint256 indexed id, address indexed from, address indexed financier);
    /// @notice Emitted when the debtor pays.
    /// @param id The receivable.
    /// @param debtor The payer.
    /// @param holder The holder at the time of payment.
    /// @param amount The amount paid.
    /// @param outstanding The outstanding amount after the payment.
    event ReceivablePaid(
        uint256 indexed id,
        address indexed debtor,
        address indexed holder,
        uint256 amount,
        uint256 outstanding
    );
    /// @notice Emitted when an overdue receivable is marked defaulted.
    /// @param id The receivable.
    /// @param holder The holder at default.
    /// @param outstanding The unpaid amount.
    event ReceivableDefaulted(uint256 indexed id, address indexed holder, uint256 outstanding);

    /// @notice Tokenises an invoice; the caller is the seller (verified supplier).
    function tokenise(Invoice calldata invoice) external returns (uint256 id);

    /// @notice Tokenises an invoice authorised by `seller`'s EIP-712 signature.
    function tokeniseBySig(
        address seller,
        Invoice calldata invoice,
        Authorization calldata auth
    ) external returns (uint256 id);

    /// @notice Tokenises many invoices in one transaction; the caller is the seller.
    function tokeniseBatch(Invoice[] calldata invoices) external returns (uint256[] memory ids);

    /// @notice Batch tokenisation authorised by `seller`'s signature over the whole batch.
    function tokeniseBatchBySig(
        address seller,
        Invoice[] calldata invoices,
        Authorization calldata auth
    ) external returns (uint256[] memory ids);

    /// @notice The debtor accepts the receivable: from now on it owes the amount to the holder.
    function accept(uint256 id) external;

    /// @notice Acceptance authorised by the debtor's signature.
    function acceptBySig(address debtor, uint256 id, Authorization calldata auth) external;

    /// @notice The seller withdraws a receivable the debtor has not accepted.
    function cancel(uint256 id) external;

    /// @notice Cancellation authorised by the seller's signature.
    function cancelBySig(address seller, uint256 id, Authorization calldata auth) external;

    /// @notice The holder records a credit note (dilution) of `amount`.
    function applyCreditNote(uint256 id, uint256 amount, bytes32 creditNoteHash) external;

    /// @notice Credit note authorised by the holder's signature.
    function applyCreditNoteBySig(
        address holder,
        uint256 id,
        uint256 amount,
        bytes32 creditNoteHash,
        Authorization calldata auth
    ) external;

    /// @notice The holder splits an accepted receivable into children summing to its outstanding.
    function split(uint256 id, uint256[] calldata amounts) external returns (uint256[] memory childIds);

    /// @notice Split authorised by the holder's signature.
    function splitBySig(
        address holder,
        uint256 id,
        uint256[] calldata amounts,
        Authorization calldata auth
    ) external returns (uint256[] memory childIds);

    /// @notice Transfer authorised by the holder's signature (direct transfers use ERC-721 transferFrom).
    function transferBySig(address holder, uint256 id, address to, Authorization calldata auth) external;

    /// @notice The debtor pays `amount` of the receivable to its holder in the settlement token.
    function pay(uint256 id, uint256 amount) external;

    /// @notice Payment authorised by the debtor's signature (the token allowance may come from a permit).
    function payBySig(address debtor, uint256 id, uint256 amount, Authorization calldata auth) external;

    /// @notice Marks a receivable unpaid past its due date plus the grace period (and a full grace
    /// period after the settlement token was last unpaused) as defaulted. Its holder only, which for
    /// a financed receivable is the financier.
    function markDefaulted(uint256 id) external;

    /// @notice Assigns an accepted receivable to a financier. Financing module only.
    function assignToFinancier(
        uint256 id,
        address financier
    ) external returns (address supplier, uint256 outstanding, uint256 dueDate, address debtor);

    /// @notice The receivable `id` (reverts when it does not exist).
    function receivable(uint256 id) external view returns (ReceivableView memory);

    /// @notice The settlement token payments move in.
    function settlementToken() external view returns (address);
}

/// @title Repayment router
/// @notice Implemented by the financing module: tells the receivables ledger how a payment on a
/// financed receivable divides between the financier (up to its advance) and the supplier (the
/// reserve the financier held back), and releases the credit line.
interface IRepaymentRouter {
    /// @notice Called by the receivables ledger inside `pay` for a financed receivable.
    /// @param receivableId The receivable being paid.
    /// @param amount The amount paid.
    /// @return supplier The supplier owed the reserve.
    /// @return toSupplier The part of `amount` that goes to the supplier; the rest goes to the holder.
    function onRepayment(uint256 receivableId, uint256 amount) external returns (address supplier, uint256 toSupplier);
}
