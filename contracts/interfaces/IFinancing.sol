// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IRepaymentRouter} from "./IReceivables.sol";
import {ISignedActions} from "./ISignedActions.sol";

/// @title Receivables financing
/// @notice Credit lines opened by financiers, financing requests by holders of accepted
/// receivables, and the financier's approval or rejection. Approval is one atomic step: the
/// receivable is assigned to the financier, the settlement token moves financier -> supplier
/// (advance less discount; the platform never pools funds) and the line's utilisation rises by the
/// advance. Payments by the debtor repay the advance first, then release the reserve to the
/// supplier; each repayment lowers utilisation by the principal it repays.
/// A request carries the terms the supplier asked for (the least it must be paid now, the most
/// discount it accepts, and when the request lapses). Invariant: an approval never gives the
/// supplier less than its request's terms: `paid >= minPaid` now, and in total (paid now plus the
/// reserve released on repayment, i.e. outstanding - (advance - paid)) at least
/// `outstanding - maxDiscount`. A financier that reprices its line under a pending request cannot
/// approve that request below its terms; approval and rejection name the line (approval also the
/// advance and payout), so a signature given for one request cannot complete another.
/// Every financier act needs a verified financier; approval also needs the debtor still a verified
/// buyer. The holder may withdraw a pending request; a pending request is superseded by a new one
/// once its line is closed or expired, it has lapsed, or the receivable has changed hands.
/// Each approval records the hash of the movable-property financing registration (the 中登
/// registry number; the number itself stays off-chain), registered before the money moves.
/// Recourse: none on-chain. On default the advance stays utilised until the debtor pays late or the
/// financier writes it off; a claim against the supplier is a matter for the financing contract
/// between them, off this ledger.
interface IFinancing is IRepaymentRouter, ISignedActions {
    /// @notice A financing's lifecycle; keyed by receivable id. `None`: never requested.
    enum Status {
        None,
        Requested,
        Rejected,
        Active,
        Repaid,
        WrittenOff,
        Withdrawn
    }

    /// @notice The terms a holder asks financing on.
    /// @param lineId The line asked.
    /// @param minPaid Least amount the supplier must receive at approval, in fen.
    /// @param maxDiscount Most the supplier gives up in total (advance - paid), in fen.
    /// @param expiresAt Unix time after which the request lapses (can no longer be approved).
    struct RequestTerms {
        uint256 lineId;
        uint256 minPaid;
        uint256 maxDiscount;
        uint256 expiresAt;
    }

    /// @notice What a financier approves: the amounts it consents to, bound to one line.
    /// @param lineId The request's line (must match).
    /// @param advance Principal counted against the line: exactly the line's advance rate times
    /// the receivable's outstanding amount now.
    /// @param paid Amount paid to the supplier now, at most `advance`.
    /// @param registrationHash keccak256 of the movable-property financing registration number.
    struct Approval {
        uint256 lineId;
        uint256 advance;
        uint256 paid;
        bytes32 registrationHash;
    }

    /// @notice The financial terms of a credit line.
    /// @param limit Maximum utilisation (sum of outstanding advances), in fen.
    /// @param maxAdvanceBps Share of a receivable's outstanding amount advanced, 1..10,000 bps.
    /// @param discountBps Annual discount rate charged up front on the advance, 0..10,000 bps.
    /// @param expiry Unix time after which the line approves no new financing.
    struct LineTerms {
        uint256 limit;
        uint256 maxAdvanceBps;
        uint256 discountBps;
        uint256 expiry;
    }

    /// @notice A credit line as readers see it.
    struct CreditLineView {
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

    /// @notice A financing as readers see it.
    struct FinancingView {
        uint256 receivableId;
        address supplier;
        uint256 lineId;
        Status status;
        uint256 principal;
        uint256 minPaid;
        uint256 maxDiscount;
        uint256 expiresAt;
    }

    /// @notice Thrown when an actor is not verified in the role the act needs.
    error FinancingUnverifiedParty(address account, uint8 roleMask);
    /// @notice Thrown when a line names neither a debtor nor a supplier, or names a party twice.
    error CreditLineInvalidScope(address debtor, address supplier);
    /// @notice Thrown when a limit is zero, does not fit 64 bits, or is below current utilisation.
    error CreditLineInvalidLimit(uint256 limit, uint256 utilised);
    /// @notice Thrown when the advance rate is zero or above 10,000 bps, or the discount above 10,000 bps.
    error CreditLineInvalidRates(uint256 maxAdvanceBps, uint256 discountBps);
    /// @notice Thrown when the expiry is not in the future.
    error CreditLineInvalidExpiry(uint256 expiry);
    /// @notice Thrown when the line id does not exist.
    error CreditLineNotFound(uint256 lineId);
    /// @notice Thrown when the line is closed or expired.
    error CreditLineUnavailable(uint256 lineId);
    /// @notice Thrown when every line id has been used.
    error CreditLineIdsExhausted();
    /// @notice Thrown when the caller is not the line's financier.
    error CreditLineUnauthorized(uint256 lineId, address account);
    /// @notice Thrown when the receivable's debtor or holder is outside the line's scope.
    error CreditLineScopeMismatch(uint256 lineId, address debtor, address supplier);
    /// @notice Thrown when approving would lift utilisation above the limit.
    error CreditLineLimitExceeded(uint256 lineId, uint256 utilised, uint256 advance, uint256 limit);
    /// @notice Thrown when the caller does not hold the receivable.
    error FinancingNotHolder(uint256 receivableId, address account);
    /// @notice Thrown when the receivable is not in a state the act needs.
    error FinancingInvalidReceivableStatus(uint256 receivableId, uint8 status);
    /// @notice Thrown when the financing is not in a state the act needs.
    error FinancingInvalidStatus(uint256 receivableId, Status status);
    /// @notice Thrown when the holder changed between request and approval.
    error FinancingHolderChanged(uint256 receivableId, address requestedBy, address holder);
    /// @notice Thrown when approving financing of a receivable already past its due date.
    error FinancingReceivableOverdue(uint256 receivableId, uint256 dueDate);
    /// @notice Thrown when request terms do not fit the ledger (amounts above 64 bits, a lapse time
    /// not in the future or above 48 bits).
    error FinancingInvalidRequestTerms(uint256 minPaid, uint256 maxDiscount, uint256 expiresAt);
    /// @notice Thrown when approving or rejecting a request after its lapse time.
    error FinancingRequestLapsed(uint256 receivableId, uint256 expiresAt);
    /// @notice Thrown when a request is pending on an open line and neither lapsed nor orphaned by a
    /// change of holder: it must be answered or withdrawn first.
    error FinancingRequestPending(uint256 receivableId, uint256 lineId, uint256 expiresAt);
    /// @notice Thrown when an approval or rejection names another line than the request's.
    error FinancingLineMismatch(uint256 receivableId, uint256 lineId, uint256 requestedLineId);
    /// @notice Thrown when an approval's advance is not the line's advance rate times the
    /// outstanding amount now, or its payout exceeds its advance.
    error FinancingAdvanceMismatch(uint256 receivableId, uint256 advance, uint256 paid, uint256 expectedAdvance);
    /// @notice Thrown when an approval would give the supplier less than its request's terms.
    /// @param paid What the approval pays now.
    /// @param minPaid The request's least payment now.
    /// @param discount What the supplier would give up in total (advance - paid).
    /// @param maxDiscount The request's most discount.
    error FinancingTermsNotMet(uint256 receivableId, uint256 paid, uint256 minPaid, uint256 discount, uint256 maxDiscount);
    /// @notice Thrown when an approval carries no registration hash.
    error FinancingRegistrationMissing(uint256 receivableId);
    /// @notice Thrown when a repayment hook is called by anyone but the receivables ledger.
    error FinancingUnauthorizedCaller(address caller);

    /// @notice Emitted when a financier opens a credit line.
    /// @param lineId The new line.
    /// @param financier The financier.
    /// @param debtor Buyer the line covers (zero: any).
    /// @param supplier Supplier the line covers (zero: any).
    /// @param limit Maximum utilisation.
    /// @param maxAdvanceBps Share of the outstanding amount advanced, in basis points.
    /// @param discountBps Annual discount rate in basis points.
    /// @param expiry Unix time after which no new financing is approved.
    event CreditLineOpened(
        uint256 indexed lineId,
        address indexed financier,
        address indexed debtor,
        address supplier,
        uint256 limit,
        uint256 maxAdvanceBps,
        uint256 discountBps,
        uint256 expiry
    );
    /// @notice Emitted when a financier changes a line's terms.
    event CreditLineUpdated(
        uint256 indexed lineId,
        uint256 limit,
        uint256 maxAdvanceBps,
        uint256 discountBps,
        uint256 expiry
    );
    /// @notice Emitted when a financier closes a line to new financing.
    event CreditLineClosed(uint256 indexed lineId);
    /// @notice Emitted when a holder requests financing.
    /// @param receivableId The receivable.
    /// @param lineId The line asked to finance it.
    /// @param supplier The holder asking.
    /// @param minPaid Least payment now the supplier accepts.
    /// @param maxDiscount Most total discount the supplier accepts.
    /// @param expiresAt When the request lapses.
    event FinancingRequested(
        uint256 indexed receivableId,
        uint256 indexed lineId,
        address indexed supplier,
        uint256 minPaid,
        uint256 maxDiscount,
        uint256 expiresAt
    );
    /// @notice Emitted when the requester withdraws its pending request.
    /// @param receivableId The receivable.
    /// @param lineId The line the request was on.
    /// @param supplier The requester.
    event FinancingWithdrawn(uint256 indexed receivableId, uint256 indexed lineId, address indexed supplier);
    /// @notice Emitted when a new request replaces a pending one whose line closed or expired, which
    /// lapsed, or whose requester no longer holds the receivable. Followed by FinancingRequested.
    /// @param receivableId The receivable.
    /// @param lineId The superseded request's line.
    /// @param supplier The superseded request's requester.
    event FinancingSuperseded(uint256 indexed receivableId, uint256 indexed lineId, address indexed supplier);
    /// @notice Emitted when the financier rejects a request.
    /// @param receivableId The receivable.
    /// @param lineId The line.
    /// @param reasonCode The reason code (the service keeps the text).
    event FinancingRejected(uint256 indexed receivableId, uint256 indexed lineId, bytes32 reasonCode);
    /// @notice Emitted when the financier approves: assignment, payment and utilisation done.
    /// @param receivableId The receivable.
    /// @param lineId The line.
    /// @param financier The financier, now holder.
    /// @param supplier The supplier paid.
    /// @param advance Principal counted against the line.
    /// @param paid Amount paid to the supplier (advance less discount).
    /// @param registrationHash keccak256 of the movable-property financing registration number.
    event FinancingApproved(
        uint256 indexed receivableId,
        uint256 indexed lineId,
        address indexed financier,
        address supplier,
        uint256 advance,
        uint256 paid,
        bytes32 registrationHash
    );
    /// @notice Emitted for each debtor payment on a financed receivable.
    /// @param receivableId The receivable.
    /// @param lineId The line.
    /// @param toFinancier Principal repaid to the financier.
    /// @param toSupplier Reserve released to the supplier.
    /// @param principal Principal still outstanding.
    event FinancingRepaid(
        uint256 indexed receivableId,
        uint256 indexed lineId,
        uint256 toFinancier,
        uint256 toSupplier,
        uint256 principal
    );
    /// @notice Emitted when a financier writes off the principal of a defaulted receivable.
    event FinancingWrittenOff(uint256 indexed receivableId, uint256 indexed lineId, uint256 principal);

    /// @notice A verified financier opens a line for a debtor and/or a supplier (zero: any).
    function openCreditLine(address debtor, address supplier, LineTerms calldata terms) external returns (uint256 lineId);

    /// @notice Opens a credit line authorised by `financier`'s EIP-712 signature.
    function openCreditLineBySig(
        address financier,
        address debtor,
        address supplier,
        LineTerms calldata terms,
        Authorization calldata auth
    ) external returns (uint256 lineId);

    /// @notice The line's financier changes its terms; the limit may not drop below utilisation.
    function updateCreditLine(uint256 lineId, LineTerms calldata terms) external;

    /// @notice Changes a credit line's terms, authorised by the financier's signature.
    function updateCreditLineBySig(
        address financier,
        uint256 lineId,
        LineTerms calldata terms,
        Authorization calldata auth
    ) external;

    /// @notice The line's financier closes it to new financing; running financings continue.
    function closeCreditLine(uint256 lineId) external;

    /// @notice Closes a credit line, authorised by the financier's signature.
    function closeCreditLineBySig(address financier, uint256 lineId, Authorization calldata auth) external;

    /// @notice The holder (a verified supplier) of an accepted receivable asks a line to finance it
    /// on `terms`. A pending request is superseded when its line is closed or expired, it lapsed,
    /// or its requester no longer holds the receivable; otherwise FinancingRequestPending.
    function requestFinancing(uint256 receivableId, RequestTerms calldata terms) external;

    /// @notice Requests financing, authorised by the holder's signature.
    function requestFinancingBySig(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata terms,
        Authorization calldata auth
    ) external;

    /// @notice The requester withdraws its pending request.
    function withdrawFinancingRequest(uint256 receivableId) external;

    /// @notice Withdraws a pending request, authorised by the requester's signature.
    function withdrawFinancingRequestBySig(address supplier, uint256 receivableId, Authorization calldata auth) external;

    /// @notice The line's financier approves a pending request: assignment, payment and
    /// utilisation in one step, refused below the request's terms.
    function approveFinancing(uint256 receivableId, Approval calldata approval) external;

    /// @notice Approves a pending request, authorised by the financier's signature.
    function approveFinancingBySig(
        address financier,
        uint256 receivableId,
        Approval calldata approval,
        Authorization calldata auth
    ) external;

    /// @notice The line's financier approves the holder's signed request in the same transaction,
    /// without storing the request first. The holder's signature is the one requestFinancingBySig
    /// takes.
    function financeSignedRequest(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata terms,
        Authorization calldata supplierAuth,
        Approval calldata approval
    ) external;

    /// @notice Anyone relays a holder's signed request together with the line's financier's signed
    /// approval: checked and executed exactly like financeSignedRequest, in one transaction and
    /// without storing the request. The financier's EIP-712 signature is over
    /// `ApproveSignedRequest(financier, supplier, receivableId, Approval, nonce, deadline)`, so it
    /// names the holder it approves; each signature's nonce is single-use and its deadline binding,
    /// and the request's own lapse time (terms.expiresAt) is honoured.
    function financeSignedRequestBySig(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata terms,
        Authorization calldata supplierAuth,
        address financier,
        Approval calldata approval,
        Authorization calldata financierAuth
    ) external;

    /// @notice Withdraws a signed request that was never relayed (an offer held off-chain): the
    /// holder signs `WithdrawFinancingOffer(supplier, receivableId, nonce, deadline)` with the
    /// offer's own nonce, and verifying it consumes that nonce, so neither financeSignedRequest nor
    /// financeSignedRequestBySig can use the offer afterwards. Emits NonceInvalidated.
    function withdrawFinancingOfferBySig(address supplier, uint256 receivableId, Authorization calldata auth) external;

    /// @notice The line's financier rejects a request on `lineId` with a reason code.
    function rejectFinancing(uint256 receivableId, uint256 lineId, bytes32 reasonCode) external;

    /// @notice Rejects a request, authorised by the financier's signature.
    function rejectFinancingBySig(
        address financier,
        uint256 receivableId,
        uint256 lineId,
        bytes32 reasonCode,
        Authorization calldata auth
    ) external;

    /// @notice The financier writes off the principal of a defaulted receivable, releasing the line.
    function writeOff(uint256 receivableId) external;

    /// @notice Writes off a defaulted financing, authorised by the financier's signature.
    function writeOffBySig(address financier, uint256 receivableId, Authorization calldata auth) external;

    /// @notice The credit line `lineId` (reverts when unknown).
    function creditLine(uint256 lineId) external view returns (CreditLineView memory);

    /// @notice The financing of `receivableId` (status None when never requested).
    function financing(uint256 receivableId) external view returns (FinancingView memory);
}
