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
        WrittenOff
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
    event FinancingRequested(uint256 indexed receivableId, uint256 indexed lineId, address indexed supplier);
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
    event FinancingApproved(
        uint256 indexed receivableId,
        uint256 indexed lineId,
        address indexed financier,
        address supplier,
        uint256 advance,
        uint256 paid
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

    /// @notice The line's financier changes its terms; the limit may not drop below utilisation.
    function updateCreditLine(uint256 lineId, LineTerms calldata terms) external;

    /// @notice The line's financier closes it to new financing; running financings continue.
    function closeCreditLine(uint256 lineId) external;

    /// @notice The holder (a verified supplier) of an accepted receivable asks a line to finance it.
    function requestFinancing(uint256 receivableId, uint256 lineId) external;

    /// @notice The line's financier approves: assignment, payment and utilisation in one step.
    function approveFinancing(uint256 receivableId) external;

    /// @notice The line's financier rejects a request with a reason code.
    function rejectFinancing(uint256 receivableId, bytes32 reasonCode) external;

    /// @notice The financier writes off the principal of a defaulted receivable, releasing the line.
    function writeOff(uint256 receivableId) external;

    /// @notice The credit line `lineId` (reverts when unknown).
    function creditLine(uint256 lineId) external view returns (CreditLineView memory);

    /// @notice The financing of `receivableId` (status None when never requested).
    function financing(uint256 receivableId) external view returns (FinancingView memory);
}
