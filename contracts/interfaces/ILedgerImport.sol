// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Sealed import of a version-1 ledger
/// @notice The version-2 contracts are deployed beside the version-1 ones; a one-time migrator key
/// (LEDGER_MIGRATOR, granted only at construction) copies the version-1 state in through these
/// batch functions, then `sealImport` closes the window forever. Every imported record is written
/// exactly as version 1 had it and announced in an event carrying the whole record, so an indexer
/// projects the new ledger from the events alone. A contract deployed without a migrator is sealed
/// from its first block: a fresh ledger has no import window at all.
/// Import order: members, balances, receivables (a parent before its children), payments, credit
/// lines (in id order), financings.
interface ILedgerImport {
    /// @notice What is wrong with a record the migrator tried to import.
    enum ImportFault {
        Id, // zero id (or a zero member / balance account)
        Status, // status unknown, None, or not allowed for this kind of record
        Holder, // a live receivable without holder, or a tombstone (cancelled, split) with one; a payment to no one
        Seller, // zero seller (a financing's zero supplier), or an issued receivable whose holder is not its seller
        Debtor, // zero debtor; a payment whose payer is not its receivable's debtor
        Amount, // face value zero or beyond 64 bits, outstanding above face value, or outstanding zero
        // for a receivable that is not paid (and non-zero for one that is); a zero payment, or one
        // leaving more than the face value outstanding
        DueDate, // zero or beyond 32 bits
        Financed, // financed flag contradicts the status
        Parent, // parent not imported or not split, another debtor or due date, larger than the parent's
        // outstanding at the split, or an issued child (children start accepted)
        Fingerprint, // a split child naming an invoice fingerprint
        LineId, // credit line id not the next in sequence
        Scope, // credit line without financier, with neither debtor nor supplier, or lending to itself
        Limit, // limit zero or beyond 64 bits, or utilisation above the limit
        Rates, // advance rate zero or above 100 %, discount above 100 %
        Expiry, // expiry beyond 48 bits
        Line, // a financing naming a credit line that was not imported
        Receivable, // an approved financing whose receivable is not financed, not held by the line's
        // financier, or in a status the financing's contradicts (a receivable that was not imported at
        // all reverts with the ledger's own ReceivableNotFound)
        Principal, // principal beyond 64 bits or above its line's utilisation, zero for an active
        // financing, or non-zero for a request, a rejection or a repaid one
        Roles, // member role mask empty or outside the defined roles
        Profile // member jurisdiction not two ASCII capitals, or zero entity id hash
    }

    /// @notice Thrown by every import function once the import is sealed (and on a contract
    /// deployed without a migrator).
    error LedgerImportSealed();
    /// @notice Thrown when a record's id (receivable id, member or balance account, financing's
    /// receivable id, or the root id an imported fingerprint reserves) already exists.
    /// @param id The id (an account as uint160).
    error LedgerImportDuplicate(uint256 id);
    /// @notice Thrown when a record is malformed or contradicts what is already imported.
    /// @param id The record's id (an account as uint160).
    /// @param fault What is wrong.
    error LedgerImportInvalidRecord(uint256 id, ImportFault fault);

    /// @notice Emitted once, when the import window closes for good.
    /// @param by The migrator or admin that sealed it (zero when sealed at construction).
    event ImportSealed(address indexed by);

    /// @notice Closes the import window for good: every import function reverts from now on and the
    /// LEDGER_MIGRATOR role no longer grants anything. The migrator or the admin only; sealing a
    /// sealed contract reverts with `LedgerImportSealed`.
    function sealImport() external;

    /// @notice True once the import window is closed (from construction when there was no migrator).
    function importSealed() external view returns (bool);
}

/// @title Import of version-1 members into the participant registry
/// @notice `register` cannot recreate a member whose KYC has lapsed (it requires a future expiry)
/// nor a suspended one without a second act, so members are imported as they are.
interface IRegistryImport is ILedgerImport {
    /// @notice A version-1 member as its registry held it.
    /// @param account The member's address.
    /// @param roles Role bit mask (Roles.SUPPLIER | BUYER | FINANCIER | AUDITOR).
    /// @param status 1 Active, 2 Suspended (IParticipantRegistry.Status as a number).
    /// @param kycExpiry KYC expiry, past or future.
    /// @param jurisdiction ISO 3166-1 alpha-2 code, ASCII capitals.
    /// @param entityIdHash Hash of the legal entity id.
    struct ImportedMember {
        address account;
        uint8 roles;
        uint8 status;
        uint48 kycExpiry;
        bytes2 jurisdiction;
        bytes32 entityIdHash;
    }

    /// @notice Emitted per imported member: the whole record, field by field.
    event MemberImported(
        address indexed account,
        uint8 roles,
        uint8 status,
        uint48 kycExpiry,
        bytes2 jurisdiction,
        bytes32 entityIdHash
    );

    /// @notice Writes members exactly as version 1 had them. Migrator only, before the seal.
    function importMembers(ImportedMember[] calldata members) external;
}

/// @title Import of version-1 settlement-token balances
/// @notice `mint` pays only active members; a version-1 balance of a suspended or KYC-lapsed member
/// must be carried too, so balances are imported without the membership check.
interface ISettlementImport is ILedgerImport {
    /// @notice A version-1 balance.
    struct ImportedBalance {
        address holder;
        uint256 amount;
    }

    /// @notice Emitted per imported balance (after the ERC-20 `Transfer` from the zero address).
    event BalanceImported(address indexed holder, uint256 amount);

    /// @notice Mints each balance to its holder, member or not, active or not. A holder that already
    /// has a balance is refused (`LedgerImportDuplicate`), as is a zero amount. Migrator only.
    function importBalances(ImportedBalance[] calldata balances) external;
}

/// @title Import of version-1 receivables
/// @notice Version-1 ids are kept: a root's id was its fingerprint itself and a child's
/// keccak256(parentId, index), plain hashes that are not in version 2's tagged namespaces.
interface IReceivablesImport is ILedgerImport {
    /// @notice A version-1 receivable as its records and events held it.
    /// @param id Its version-1 id, unchanged.
    /// @param parentId The receivable it was split from (imported before it), or 0 for a root.
    /// @param seller The supplier that tokenised it (a child: the holder that split its parent).
    /// Kept in the event; an issued receivable's holder must be its seller.
    /// @param holder Its holder; zero exactly for the tombstones (Cancelled, Split), which keep the
    /// id (and document) used but are no token.
    /// @param debtor The buyer.
    /// @param faceValue Face value in fen.
    /// @param outstanding What is still owed, at most the face value; zero exactly when Paid.
    /// @param dueDate Unix due date (may be past).
    /// @param status IReceivables.Status as a number: 1 Issued … 7 Split.
    /// @param financed Whether it was assigned to a financier (true for Financed; may be for Paid
    /// and Defaulted).
    /// @param documentHash The document it was tokenised with (version 1 kept it in
    /// `ReceivableTokenised` only); marked used so it can never be tokenised again. Zero for a child
    /// and for a version-1 receivable whose document an earlier one had already used.
    /// @param fingerprint The invoice's version-2 fingerprint (seller and invoice number), when the
    /// service knows it: its root id `receivableIdOf(fingerprint)` is reserved as a cancelled
    /// tombstone, so the same invoice cannot be tokenised again on version 2. Zero when unknown, and
    /// always for a child.
    struct ImportedReceivable {
        uint256 id;
        uint256 parentId;
        address seller;
        address holder;
        address debtor;
        uint256 faceValue;
        uint256 outstanding;
        uint256 dueDate;
        uint8 status;
        bool financed;
        bytes32 documentHash;
        bytes32 fingerprint;
    }

    /// @notice Emitted per imported receivable (after the ERC-721 `Transfer` from the zero address
    /// when it has a holder): the whole record, field by field (flat, so an indexer decodes it like
    /// any other event). The indexer projects the receivable from it.
    event ReceivableImported(
        uint256 indexed id,
        uint256 indexed parentId,
        address indexed holder,
        address seller,
        address debtor,
        uint256 faceValue,
        uint256 outstanding,
        uint256 dueDate,
        uint8 status,
        bool financed,
        bytes32 documentHash,
        bytes32 fingerprint
    );

    /// @notice Writes receivables exactly as version 1 had them: record, lineage, token and holding,
    /// document and fingerprint reservations. Migrator only, before the seal.
    function importReceivables(ImportedReceivable[] calldata records) external;

    /// @notice A payment the older ledger recorded (its `ReceivablePaid`), as history: the money moved
    /// there, and the receivable's outstanding amount and the balances are imported as they ended.
    /// @param receivableId The receivable paid (imported before its payments).
    /// @param debtor The payer: the receivable's debtor.
    /// @param holder Whom it was paid to (the holder at the time).
    /// @param amount The amount paid, non-zero.
    /// @param outstandingAfter What was still owed after it, at most the face value.
    /// @param paidAt The original block's timestamp: payment records judge lateness by it.
    /// @param originalBlock The original block number.
    /// @param originalTxHash The original transaction.
    /// @param originalLogIndex The original event's log index in its block.
    struct ImportedPayment {
        uint256 receivableId;
        address debtor;
        address holder;
        uint256 amount;
        uint256 outstandingAfter;
        uint256 paidAt;
        uint256 originalBlock;
        bytes32 originalTxHash;
        uint256 originalLogIndex;
    }

    /// @notice Emitted per imported payment: the whole record, field by field. The indexer projects a
    /// payment from it as from a `ReceivablePaid` made at `paidAt`.
    event PaymentImported(
        uint256 indexed receivableId,
        address indexed debtor,
        address indexed holder,
        uint256 amount,
        uint256 outstandingAfter,
        uint256 paidAt,
        uint256 originalBlock,
        bytes32 originalTxHash,
        uint256 originalLogIndex
    );

    /// @notice Records payment history, in the order it happened; changes no balance, no outstanding
    /// amount and no status. Migrator only, before the seal. A payment of a receivable that was not
    /// imported reverts with the ledger's `ReceivableNotFound`; a zero amount or an outstanding above
    /// the face value with `Amount`, a payer other than the receivable's debtor with `Debtor`, a zero
    /// holder with `Holder`.
    function importPayments(ImportedPayment[] calldata payments) external;
}

/// @title Import of version-1 credit lines and financings
interface IFinancingImport is ILedgerImport {
    /// @notice A version-1 credit line. Ids must be imported in order 1, 2, 3 … (version 1 numbered
    /// them so), so the next line opened on version 2 follows the last one imported.
    /// @param utilised Principal outstanding of its active financings, at most `limit`.
    /// @param expiry May be past.
    /// @param open False once the financier closed it.
    struct ImportedCreditLine {
        uint256 id;
        address financier;
        address debtor;
        address supplier;
        uint256 limit;
        uint256 utilised;
        uint256 maxAdvanceBps;
        uint256 discountBps;
        uint256 expiry;
        bool open;
    }

    /// @notice A version-1 financing record (its receivable and line imported before it).
    /// @param status IFinancing.Status as a number: 1 Requested, 2 Rejected, 3 Active, 4 Repaid,
    /// 5 WrittenOff (version 1 had no Withdrawn).
    /// @param principal The advance still owed to the financier (Active, WrittenOff); zero otherwise.
    /// A version-1 pending request named no terms: it is imported as a request with no terms that
    /// has already lapsed (minPaid, maxDiscount and expiresAt zero). It can never be approved; the
    /// financier may still reject it, its requester withdraw it, and a new request with version-2
    /// terms from the holder supersedes it.
    struct ImportedFinancing {
        uint256 receivableId;
        address supplier;
        uint256 lineId;
        uint8 status;
        uint256 principal;
    }

    /// @notice Emitted per imported credit line: the whole record, field by field.
    event CreditLineImported(
        uint256 indexed lineId,
        address indexed financier,
        address indexed debtor,
        address supplier,
        uint256 limit,
        uint256 utilised,
        uint256 maxAdvanceBps,
        uint256 discountBps,
        uint256 expiry,
        bool open
    );
    /// @notice Emitted per imported financing record: the whole record, field by field.
    event FinancingImported(
        uint256 indexed receivableId,
        uint256 indexed lineId,
        address indexed supplier,
        uint8 status,
        uint256 principal
    );

    /// @notice Writes credit lines exactly as version 1 had them. Migrator only, before the seal.
    function importCreditLines(ImportedCreditLine[] calldata lines) external;

    /// @notice Writes financing records exactly as version 1 had them. Migrator only, before the seal.
    function importFinancings(ImportedFinancing[] calldata records) external;
}
