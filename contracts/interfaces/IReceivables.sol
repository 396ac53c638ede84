// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ISignedActions} from "./ISignedActions.sol";

/// @title Receivables ledger
/// @notice One ERC-721 token per receivable: a buyer's debt to a supplier for an invoice.
/// An invoice's identity is its seller and its number: the fingerprint is a salted hash of the
/// normalised seller tax id and the invoice number's confusable skeleton, computed and checked
/// off-chain by an invoice attester (a key holding INVOICE_ATTESTER_ROLE) that signs an EIP-712
/// attestation over the whole invoice. Tokenising needs that attestation, so nobody picks a
/// fingerprint. A fingerprint and a document hash are each tokenised once, ever, on the whole
/// ledger: that is what stops double financing. Ids live in two namespaces that cannot meet: a root
/// id is a tagged hash of the fingerprint (`receivableIdOf`), a split child's a differently tagged
/// hash of its parent id and index (`childId`).
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
    /// @param fingerprint Salted hash of the normalised invoice identity (seller tax id, invoice
    /// number); the token id is `receivableIdOf(fingerprint)`.
    struct Invoice {
        address debtor;
        uint256 faceValue;
        uint256 dueDate;
        bytes32 documentHash;
        bytes32 fingerprint;
    }

    /// @notice An invoice attester's EIP-712 signature over an invoice (or a batch) and its seller.
    /// @param expiry Unix time after which the attestation is void.
    /// @param signature ECDSA signature (65 bytes) of a key holding INVOICE_ATTESTER_ROLE over
    /// `InvoiceAttestation(seller, invoice, expiry)` or `InvoiceBatchAttestation(seller, invoices, expiry)`.
    struct Attestation {
        uint256 expiry;
        bytes signature;
    }

    /// @notice The terms a debtor accepts, compared with the receivable's record.
    /// @param seller The supplier that tokenised the receivable.
    /// @param faceValue Its face value.
    /// @param dueDate Its due date.
    /// @param documentHash The hash of the invoice document it was tokenised with.
    struct Terms {
        address seller;
        uint256 faceValue;
        uint256 dueDate;
        bytes32 documentHash;
    }

    /// @notice Which accepted term differs from the record.
    enum TermsField {
        Seller,
        FaceValue,
        DueDate,
        DocumentHash
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
    /// @param id The token id (`receivableIdOf(fingerprint)` for a tokenised invoice).
    error ReceivableDuplicate(uint256 id);
    /// @notice Thrown when an invoice document has been tokenised before (under any fingerprint).
    /// @param documentHash The document hash.
    /// @param id The receivable it was tokenised as.
    error ReceivableDocumentUsed(bytes32 documentHash, uint256 id);
    /// @notice Thrown when an attestation is relayed after its expiry.
    /// @param expiry The attestation's expiry.
    /// @param nowTime The block time.
    error ReceivableAttestationExpired(uint256 expiry, uint256 nowTime);
    /// @notice Thrown when the attestation's signer does not hold INVOICE_ATTESTER_ROLE: a forged
    /// signature, a signature over other invoice data or another seller, or a key that is not an
    /// attester.
    /// @param signer The address the signature recovers to (zero for a malformed signature).
    error ReceivableAttesterUnauthorized(address signer);
    /// @notice Thrown when the terms a debtor accepts differ from the receivable's record.
    /// @param id The receivable.
    /// @param field The first term that differs.
    error ReceivableTermsMismatch(uint256 id, TermsField field);
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
    /// @notice Thrown at deployment when the financing module address is zero.
    error ReceivableInvalidFinancingModule();

    /// @notice Emitted when an invoice is tokenised.
    /// @param id Token id (`receivableIdOf(fingerprint)`).
    /// @param seller The supplier that tokenised it, its first holder.
    /// @param debtor The buyer.
    /// @param faceValue Amount owed.
    /// @param dueDate Unix due date.
    /// @param documentHash SHA-256 of the invoice document.
    /// @param fingerprint The attested invoice fingerprint.
    event ReceivableTokenised(
        uint256 indexed id,
        address indexed seller,
        address indexed debtor,
        uint256 faceValue,
        uint256 dueDate,
        bytes32 documentHash,
        bytes32 fingerprint
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

    /// @notice Tokenises an attested invoice; the caller is the seller (verified supplier).
    function tokenise(Invoice calldata invoice, Attestation calldata attestation) external returns (uint256 id);

    /// @notice Tokenises an attested invoice authorised by `seller`'s EIP-712 signature.
    function tokeniseBySig(
        address seller,
        Invoice calldata invoice,
        Attestation calldata attestation,
        Authorization calldata auth
    ) external returns (uint256 id);

    /// @notice Tokenises many invoices in one transaction under one attestation of the whole batch;
    /// the caller is the seller.
    function tokeniseBatch(
        Invoice[] calldata invoices,
        Attestation calldata attestation
    ) external returns (uint256[] memory ids);

    /// @notice Batch tokenisation authorised by `seller`'s signature over the whole batch.
    function tokeniseBatchBySig(
        address seller,
        Invoice[] calldata invoices,
        Attestation calldata attestation,
        Authorization calldata auth
    ) external returns (uint256[] memory ids);

    /// @notice The debtor accepts the receivable on `terms`, which must match its record: from now
    /// on it owes the amount to the holder.
    function accept(uint256 id, Terms calldata terms) external;

    /// @notice Acceptance authorised by the debtor's signature over the id and the terms.
    function acceptBySig(address debtor, uint256 id, Terms calldata terms, Authorization calldata auth) external;

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

    /// @notice The receivable id an invoice fingerprint becomes (never equal to a child id).
    function receivableIdOf(bytes32 fingerprint) external pure returns (uint256);

    /// @notice Id of the `index`-th child of a split of `parentId` (never equal to a root id).
    function childId(uint256 parentId, uint256 index) external pure returns (uint256);

    /// @notice The receivable an invoice document was tokenised as, or 0 if never.
    function receivableOfDocument(bytes32 documentHash) external view returns (uint256);

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
