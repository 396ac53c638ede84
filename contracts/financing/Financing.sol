// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {LedgerImport} from "../common/LedgerImport.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IFinancing} from "../interfaces/IFinancing.sol";
import {IFinancingImport} from "../interfaces/ILedgerImport.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IReceivables, IRepaymentRouter} from "../interfaces/IReceivables.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title Financing
/// @notice Credit lines and receivable financing. Invariants: a line's utilisation equals the
/// principal outstanding of the financings it approved (less write-offs) and never exceeds its
/// limit; a receivable is financed at most once (the receivables ledger assigns only from
/// Accepted, and an assigned receivable never returns there); an approval pays the supplier at
/// least its request's terms (see IFinancing).
contract Financing is
    IFinancing,
    IFinancingImport,
    SignedActions,
    ReentrancyGuardTransient,
    AccessControlDefaultAdminRules,
    LedgerImport
{
    using SafeERC20 for IERC20;

    /// @dev Slot 0: financier (160) | maxAdvanceBps (16) | discountBps (16) | expiry (48).
    /// Slot 1: debtor (160) | utilised (64) | open (8): the only slot approval and repayment write.
    /// `open` keeps it non-zero while the line can lend, so raising utilisation from zero costs a
    /// 5,000-gas update instead of a 22,100-gas fresh write, even for supplier-only lines.
    /// Slot 2: supplier (160) | limit (64).
    struct Line {
        address financier;
        uint16 maxAdvanceBps;
        uint16 discountBps;
        uint48 expiry;
        address debtor;
        uint64 utilised;
        bool open;
        address supplier;
        uint64 limit;
    }

    /// @dev Slot A: supplier (160) | status (8) | lineId (24) | principal (64). Line ids are
    /// therefore capped at 2^24 - 1 (16.7 million lines).
    /// Slot B: the stored request's terms, minPaid (64) | maxDiscount (64) | expiresAt (48); left
    /// unwritten when a signed request is approved in the same transaction.
    struct Record {
        address supplier;
        Status status;
        uint24 lineId;
        uint64 principal;
        uint64 minPaid;
        uint64 maxDiscount;
        uint48 expiresAt;
    }

    uint256 private constant BPS = 10_000;
    uint256 private constant MAX_LINE_ID = type(uint24).max;

    bytes32 private constant OPEN_TYPEHASH =
        keccak256(
            "OpenCreditLine(address financier,address debtor,address supplier,LineTerms terms,uint256 nonce,uint256 deadline)"
            "LineTerms(uint256 limit,uint256 maxAdvanceBps,uint256 discountBps,uint256 expiry)"
        );
    bytes32 private constant UPDATE_TYPEHASH =
        keccak256(
            "UpdateCreditLine(address financier,uint256 lineId,LineTerms terms,uint256 nonce,uint256 deadline)"
            "LineTerms(uint256 limit,uint256 maxAdvanceBps,uint256 discountBps,uint256 expiry)"
        );
    bytes32 private constant TERMS_TYPEHASH =
        keccak256("LineTerms(uint256 limit,uint256 maxAdvanceBps,uint256 discountBps,uint256 expiry)");
    bytes32 private constant CLOSE_TYPEHASH =
        keccak256("CloseCreditLine(address financier,uint256 lineId,uint256 nonce,uint256 deadline)");
    bytes32 private constant REQUEST_TYPEHASH =
        keccak256(
            "RequestFinancing(address supplier,uint256 receivableId,RequestTerms terms,uint256 nonce,uint256 deadline)"
            "RequestTerms(uint256 lineId,uint256 minPaid,uint256 maxDiscount,uint256 expiresAt)"
        );
    bytes32 private constant REQUEST_TERMS_TYPEHASH =
        keccak256("RequestTerms(uint256 lineId,uint256 minPaid,uint256 maxDiscount,uint256 expiresAt)");
    bytes32 private constant WITHDRAW_TYPEHASH =
        keccak256("WithdrawFinancingRequest(address supplier,uint256 receivableId,uint256 nonce,uint256 deadline)");
    bytes32 private constant APPROVE_TYPEHASH =
        keccak256(
            "ApproveFinancing(address financier,uint256 receivableId,Approval approval,uint256 nonce,uint256 deadline)"
            "Approval(uint256 lineId,uint256 advance,uint256 paid,bytes32 registrationHash)"
        );
    bytes32 private constant APPROVAL_TYPEHASH =
        keccak256("Approval(uint256 lineId,uint256 advance,uint256 paid,bytes32 registrationHash)");
    bytes32 private constant APPROVE_SIGNED_TYPEHASH =
        keccak256(
            "ApproveSignedRequest(address financier,address supplier,uint256 receivableId,Approval approval,uint256 nonce,uint256 deadline)"
            "Approval(uint256 lineId,uint256 advance,uint256 paid,bytes32 registrationHash)"
        );
    bytes32 private constant WITHDRAW_OFFER_TYPEHASH =
        keccak256("WithdrawFinancingOffer(address supplier,uint256 receivableId,uint256 nonce,uint256 deadline)");
    bytes32 private constant REJECT_TYPEHASH =
        keccak256(
            "RejectFinancing(address financier,uint256 receivableId,uint256 lineId,bytes32 reasonCode,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant WRITE_OFF_TYPEHASH =
        keccak256("WriteOff(address financier,uint256 receivableId,uint256 nonce,uint256 deadline)");

    IParticipantRegistry private immutable _registry;
    IReceivables private immutable _receivables;
    IERC20 private immutable _token;

    uint256 private _lineCount;
    mapping(uint256 lineId => Line) private _lines;
    mapping(uint256 receivableId => Record) private _records;

    /// @param registry_ Participant registry.
    /// @param receivables_ Receivables ledger (must then wire this contract as its financing module).
    /// @param admin Holder of DEFAULT_ADMIN_ROLE.
    /// @param adminDelay Seconds a new admin waits before accepting the role (two-step transfer).
    /// @param migrator The key that imports a version-1 ledger until the seal, or zero for none
    /// (the import is then sealed from the start).
    constructor(
        IParticipantRegistry registry_,
        IReceivables receivables_,
        address admin,
        uint48 adminDelay,
        address migrator
    ) EIP712("SCF Financing", "1") AccessControlDefaultAdminRules(adminDelay, admin) LedgerImport(migrator) {
        _registry = registry_;
        _receivables = receivables_;
        _token = IERC20(receivables_.settlementToken());
    }

    // ------------------------------------------------------------------ credit lines

    /// @inheritdoc IFinancing
    function openCreditLine(address debtor, address supplier, LineTerms calldata terms) external returns (uint256) {
        return _open(msg.sender, debtor, supplier, terms);
    }

    /// @inheritdoc IFinancing
    function openCreditLineBySig(
        address financier,
        address debtor,
        address supplier,
        LineTerms calldata terms,
        Authorization calldata auth
    ) external returns (uint256) {
        bytes32 structHash = keccak256(
            abi.encode(OPEN_TYPEHASH, financier, debtor, supplier, _hashTerms(terms), auth.nonce, auth.deadline)
        );
        _verifySigned(financier, structHash, auth);
        return _open(financier, debtor, supplier, terms);
    }

    /// @inheritdoc IFinancing
    function updateCreditLine(uint256 lineId, LineTerms calldata terms) external {
        _update(msg.sender, lineId, terms);
    }

    /// @inheritdoc IFinancing
    function updateCreditLineBySig(
        address financier,
        uint256 lineId,
        LineTerms calldata terms,
        Authorization calldata auth
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(UPDATE_TYPEHASH, financier, lineId, _hashTerms(terms), auth.nonce, auth.deadline)
        );
        _verifySigned(financier, structHash, auth);
        _update(financier, lineId, terms);
    }

    /// @inheritdoc IFinancing
    function closeCreditLine(uint256 lineId) external {
        _close(msg.sender, lineId);
    }

    /// @inheritdoc IFinancing
    function closeCreditLineBySig(address financier, uint256 lineId, Authorization calldata auth) external {
        _verifySigned(
            financier,
            keccak256(abi.encode(CLOSE_TYPEHASH, financier, lineId, auth.nonce, auth.deadline)),
            auth
        );
        _close(financier, lineId);
    }

    // ------------------------------------------------------------------ financing

    /// @inheritdoc IFinancing
    function requestFinancing(uint256 receivableId, RequestTerms calldata terms) external {
        _storeRequest(_request(msg.sender, receivableId, terms), terms);
    }

    /// @inheritdoc IFinancing
    function requestFinancingBySig(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata terms,
        Authorization calldata auth
    ) external {
        _verifyRequest(supplier, receivableId, terms, auth);
        _storeRequest(_request(supplier, receivableId, terms), terms);
    }

    /// @inheritdoc IFinancing
    function withdrawFinancingRequest(uint256 receivableId) external {
        _withdraw(msg.sender, receivableId);
    }

    /// @inheritdoc IFinancing
    function withdrawFinancingRequestBySig(address supplier, uint256 receivableId, Authorization calldata auth) external {
        _verifySigned(
            supplier,
            keccak256(abi.encode(WITHDRAW_TYPEHASH, supplier, receivableId, auth.nonce, auth.deadline)),
            auth
        );
        _withdraw(supplier, receivableId);
    }

    /// @inheritdoc IFinancing
    function approveFinancing(uint256 receivableId, Approval calldata approval) external nonReentrant {
        _approveStored(msg.sender, receivableId, approval);
    }

    /// @inheritdoc IFinancing
    function approveFinancingBySig(
        address financier,
        uint256 receivableId,
        Approval calldata approval,
        Authorization calldata auth
    ) external nonReentrant {
        _verifySigned(
            financier,
            keccak256(
                abi.encode(APPROVE_TYPEHASH, financier, receivableId, _hashApproval(approval), auth.nonce, auth.deadline)
            ),
            auth
        );
        _approveStored(financier, receivableId, approval);
    }

    /// @inheritdoc IFinancing
    function financeSignedRequest(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata terms,
        Authorization calldata supplierAuth,
        Approval calldata approval
    ) external nonReentrant {
        _verifyRequest(supplier, receivableId, terms, supplierAuth);
        Record storage f = _request(supplier, receivableId, terms);
        _approve(msg.sender, receivableId, f, terms.minPaid, terms.maxDiscount, approval);
    }

    /// @inheritdoc IFinancing
    function financeSignedRequestBySig(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata terms,
        Authorization calldata supplierAuth,
        address financier,
        Approval calldata approval,
        Authorization calldata financierAuth
    ) external nonReentrant {
        _verifyRequest(supplier, receivableId, terms, supplierAuth);
        _verifySigned(
            financier,
            keccak256(
                abi.encode(
                    APPROVE_SIGNED_TYPEHASH,
                    financier,
                    supplier,
                    receivableId,
                    _hashApproval(approval),
                    financierAuth.nonce,
                    financierAuth.deadline
                )
            ),
            financierAuth
        );
        Record storage f = _request(supplier, receivableId, terms);
        _approve(financier, receivableId, f, terms.minPaid, terms.maxDiscount, approval);
    }

    /// @inheritdoc IFinancing
    function withdrawFinancingOfferBySig(address supplier, uint256 receivableId, Authorization calldata auth) external {
        // Verifying consumes auth.nonce, which is the offer's own nonce: the offer can never be relayed.
        _verifySigned(
            supplier,
            keccak256(abi.encode(WITHDRAW_OFFER_TYPEHASH, supplier, receivableId, auth.nonce, auth.deadline)),
            auth
        );
        emit NonceInvalidated(supplier, auth.nonce);
    }

    /// @inheritdoc IFinancing
    function rejectFinancing(uint256 receivableId, uint256 lineId, bytes32 reasonCode) external {
        _reject(msg.sender, receivableId, lineId, reasonCode);
    }

    /// @inheritdoc IFinancing
    function rejectFinancingBySig(
        address financier,
        uint256 receivableId,
        uint256 lineId,
        bytes32 reasonCode,
        Authorization calldata auth
    ) external {
        _verifySigned(
            financier,
            keccak256(
                abi.encode(REJECT_TYPEHASH, financier, receivableId, lineId, reasonCode, auth.nonce, auth.deadline)
            ),
            auth
        );
        _reject(financier, receivableId, lineId, reasonCode);
    }

    /// @inheritdoc IFinancing
    function writeOff(uint256 receivableId) external {
        _writeOff(msg.sender, receivableId);
    }

    /// @inheritdoc IFinancing
    function writeOffBySig(address financier, uint256 receivableId, Authorization calldata auth) external {
        _verifySigned(
            financier,
            keccak256(abi.encode(WRITE_OFF_TYPEHASH, financier, receivableId, auth.nonce, auth.deadline)),
            auth
        );
        _writeOff(financier, receivableId);
    }

    /// @inheritdoc IRepaymentRouter
    /// @dev Principal first: the financier is repaid up to its advance, the rest is the supplier's
    /// reserve. After a write-off, late payments still repay the written-off principal first.
    function onRepayment(uint256 receivableId, uint256 amount) external returns (address supplier, uint256 toSupplier) {
        if (msg.sender != address(_receivables)) revert FinancingUnauthorizedCaller(msg.sender);
        Record storage f = _records[receivableId];
        Status s = f.status;
        supplier = f.supplier;
        uint256 principal = f.principal;
        uint256 toFinancier = amount < principal ? amount : principal;
        // Cannot underflow: toFinancier <= principal and toFinancier <= amount.
        unchecked {
            principal -= toFinancier;
            toSupplier = amount - toFinancier;
        }
        f.principal = uint64(principal);
        if (s == Status.Active) {
            Line storage ln = _lines[f.lineId];
            // Cannot underflow: utilisation includes this financing's remaining principal.
            unchecked {
                ln.utilised -= uint64(toFinancier);
            }
            if (principal == 0) f.status = Status.Repaid;
        }
        emit FinancingRepaid(receivableId, f.lineId, toFinancier, toSupplier, principal);
    }

    // ------------------------------------------------------------------ import from version 1

    /// @inheritdoc IFinancingImport
    function importCreditLines(ImportedCreditLine[] calldata lines) external {
        _requireImporting();
        uint256 count = _lineCount;
        uint256 n = lines.length;
        for (uint256 i; i < n; ++i) {
            ImportedCreditLine calldata c = lines[i];
            uint256 lineId = c.id;
            if (lineId <= count) revert LedgerImportDuplicate(lineId);
            // An id past MAX_LINE_ID can hold no financing (importFinancings refuses it as Line).
            if (lineId != count + 1) _malformed(lineId, ImportFault.LineId);
            address financier = c.financier;
            bool noScope = c.debtor == address(0) && c.supplier == address(0);
            if (financier == address(0) || noScope || c.debtor == financier || c.supplier == financier) {
                _malformed(lineId, ImportFault.Scope);
            }
            if (c.limit == 0 || c.limit > type(uint64).max || c.utilised > c.limit) _malformed(lineId, ImportFault.Limit);
            if (c.maxAdvanceBps == 0 || c.maxAdvanceBps > BPS || c.discountBps > BPS) _malformed(lineId, ImportFault.Rates);
            if (c.expiry > type(uint48).max) _malformed(lineId, ImportFault.Expiry);
            // Fit: checked just above.
            _lines[lineId] = Line({
                financier: financier,
                maxAdvanceBps: uint16(c.maxAdvanceBps),
                discountBps: uint16(c.discountBps),
                expiry: uint48(c.expiry),
                debtor: c.debtor,
                utilised: uint64(c.utilised),
                open: c.open,
                supplier: c.supplier,
                limit: uint64(c.limit)
            });
            count = lineId;
            emit CreditLineImported(
                lineId,
                financier,
                c.debtor,
                c.supplier,
                c.limit,
                c.utilised,
                c.maxAdvanceBps,
                c.discountBps,
                c.expiry,
                c.open
            );
        }
        _lineCount = count;
    }

    /// @inheritdoc IFinancingImport
    function importFinancings(ImportedFinancing[] calldata records) external {
        _requireImporting();
        uint256 n = records.length;
        for (uint256 i; i < n; ++i) _importFinancing(records[i]);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IFinancing
    function creditLine(uint256 lineId) external view returns (CreditLineView memory) {
        Line storage line = _line(lineId);
        return
            CreditLineView({
                id: lineId,
                financier: line.financier,
                debtor: line.debtor,
                supplier: line.supplier,
                limit: line.limit,
                utilised: line.utilised,
                maxAdvanceBps: line.maxAdvanceBps,
                discountBps: line.discountBps,
                expiry: line.expiry,
                open: line.open
            });
    }

    /// @inheritdoc IFinancing
    function financing(uint256 receivableId) external view returns (FinancingView memory) {
        Record storage f = _records[receivableId];
        // Slot B is meaningful only while a stored request is pending (a signed request approved
        // in one transaction never writes it); past requests' terms are in FinancingRequested.
        bool pending = f.status == Status.Requested;
        return
            FinancingView({
                receivableId: receivableId,
                supplier: f.supplier,
                lineId: f.lineId,
                status: f.status,
                principal: f.principal,
                minPaid: pending ? f.minPaid : 0,
                maxDiscount: pending ? f.maxDiscount : 0,
                expiresAt: pending ? f.expiresAt : 0
            });
    }

    /// @notice Number of credit lines opened so far (ids run from 1).
    function creditLineCount() external view returns (uint256) {
        return _lineCount;
    }

    /// @notice Advance and supplier payout for financing `outstanding` due at `dueDate` on `lineId` now.
    function quote(uint256 lineId, uint256 outstanding, uint256 dueDate) public view returns (uint256 advance, uint256 paid) {
        Line storage line = _line(lineId);
        advance = (outstanding * line.maxAdvanceBps) / BPS;
        uint256 term = dueDate > block.timestamp ? dueDate - block.timestamp : 0;
        uint256 discount = (advance * line.discountBps * term) / (BPS * 365 days);
        paid = advance - discount;
    }

    // ------------------------------------------------------------------ internals

    function _open(
        address financier,
        address debtor,
        address supplier,
        LineTerms calldata t
    ) private returns (uint256 lineId) {
        _requireVerified(financier, Roles.FINANCIER);
        if ((debtor == address(0) && supplier == address(0)) || debtor == financier || supplier == financier) {
            revert CreditLineInvalidScope(debtor, supplier);
        }
        if (debtor != address(0)) _requireVerified(debtor, Roles.BUYER);
        if (supplier != address(0)) _requireVerified(supplier, Roles.SUPPLIER);
        _checkTerms(t, 0);
        lineId = _lineCount + 1;
        if (lineId > MAX_LINE_ID) revert CreditLineIdsExhausted();
        _lineCount = lineId;
        _lines[lineId] = Line({
            financier: financier,
            maxAdvanceBps: uint16(t.maxAdvanceBps),
            discountBps: uint16(t.discountBps),
            expiry: uint48(t.expiry),
            debtor: debtor,
            utilised: 0,
            open: true,
            supplier: supplier,
            limit: uint64(t.limit)
        });
        emit CreditLineOpened(lineId, financier, debtor, supplier, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry);
    }

    function _update(address financier, uint256 lineId, LineTerms calldata t) private {
        Line storage line = _ownLine(financier, lineId);
        _requireVerified(financier, Roles.FINANCIER);
        _checkTerms(t, line.utilised);
        line.limit = uint64(t.limit);
        line.maxAdvanceBps = uint16(t.maxAdvanceBps);
        line.discountBps = uint16(t.discountBps);
        line.expiry = uint48(t.expiry);
        emit CreditLineUpdated(lineId, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry);
    }

    function _close(address financier, uint256 lineId) private {
        Line storage line = _ownLine(financier, lineId);
        _requireVerified(financier, Roles.FINANCIER);
        if (!line.open) revert CreditLineUnavailable(lineId);
        line.open = false;
        emit CreditLineClosed(lineId);
    }

    function _verifyRequest(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata t,
        Authorization calldata auth
    ) private {
        bytes32 termsHash = keccak256(abi.encode(REQUEST_TERMS_TYPEHASH, t.lineId, t.minPaid, t.maxDiscount, t.expiresAt));
        _verifySigned(
            supplier,
            keccak256(abi.encode(REQUEST_TYPEHASH, supplier, receivableId, termsHash, auth.nonce, auth.deadline)),
            auth
        );
    }

    /// @dev Checks a request and writes slot A (requester, Requested, line); the caller stores the
    /// terms (slot B) or approves at once.
    function _request(
        address supplier,
        uint256 receivableId,
        RequestTerms calldata t
    ) private returns (Record storage f) {
        _requireVerified(supplier, Roles.SUPPLIER);
        bool amountsFit = t.minPaid <= type(uint64).max && t.maxDiscount <= type(uint64).max;
        if (!amountsFit || t.expiresAt <= block.timestamp || t.expiresAt > type(uint48).max) {
            revert FinancingInvalidRequestTerms(t.minPaid, t.maxDiscount, t.expiresAt);
        }
        IReceivables.ReceivableView memory r = _receivables.receivable(receivableId);
        if (r.holder != supplier) revert FinancingNotHolder(receivableId, supplier);
        if (r.status != IReceivables.Status.Accepted) {
            revert FinancingInvalidReceivableStatus(receivableId, uint8(r.status));
        }
        uint256 lineId = t.lineId;
        Line storage line = _availableLine(lineId);
        _checkScope(line, lineId, r.debtor, supplier);
        f = _records[receivableId];
        Status s = f.status;
        if (s == Status.Requested) {
            // A pending request blocks another only while it can still be approved.
            uint256 pendingLine = f.lineId;
            address requestedBy = f.supplier;
            Line storage pending = _lines[pendingLine];
            bool lineGone = !pending.open || pending.expiry <= block.timestamp;
            if (!lineGone && f.expiresAt >= block.timestamp && requestedBy == supplier) {
                revert FinancingRequestPending(receivableId, pendingLine, f.expiresAt);
            }
            emit FinancingSuperseded(receivableId, pendingLine, requestedBy);
        } else if (s != Status.None && s != Status.Rejected && s != Status.Withdrawn) {
            // Active, Repaid and WrittenOff are final.
            revert FinancingInvalidStatus(receivableId, s);
        }
        f.supplier = supplier;
        f.status = Status.Requested;
        f.lineId = uint24(lineId);
        emit FinancingRequested(receivableId, lineId, supplier, t.minPaid, t.maxDiscount, t.expiresAt);
    }

    function _storeRequest(Record storage f, RequestTerms calldata t) private {
        // Fit: checked in _request.
        f.minPaid = uint64(t.minPaid);
        f.maxDiscount = uint64(t.maxDiscount);
        f.expiresAt = uint48(t.expiresAt);
    }

    function _withdraw(address supplier, uint256 receivableId) private {
        Record storage f = _records[receivableId];
        if (f.status != Status.Requested) revert FinancingInvalidStatus(receivableId, f.status);
        if (f.supplier != supplier) revert FinancingNotHolder(receivableId, supplier);
        f.status = Status.Withdrawn;
        emit FinancingWithdrawn(receivableId, f.lineId, supplier);
    }

    function _approveStored(address financier, uint256 receivableId, Approval calldata a) private {
        Record storage f = _records[receivableId];
        if (f.status != Status.Requested) revert FinancingInvalidStatus(receivableId, f.status);
        uint256 expiresAt = f.expiresAt;
        if (expiresAt < block.timestamp) revert FinancingRequestLapsed(receivableId, expiresAt);
        _approve(financier, receivableId, f, f.minPaid, f.maxDiscount, a);
    }

    /// @dev `f` is Requested and not lapsed. Pays exactly the approval's amounts, which must be the
    /// line's advance now and meet the request's terms.
    function _approve(
        address financier,
        uint256 receivableId,
        Record storage f,
        uint256 minPaid,
        uint256 maxDiscount,
        Approval calldata a
    ) private {
        uint256 lineId = f.lineId;
        if (a.lineId != lineId) revert FinancingLineMismatch(receivableId, a.lineId, lineId);
        Line storage line = _availableLine(lineId);
        if (line.financier != financier) revert CreditLineUnauthorized(lineId, financier);
        _requireVerified(financier, Roles.FINANCIER);
        if (a.registrationHash == bytes32(0)) revert FinancingRegistrationMissing(receivableId);
        (address holder, uint256 outstanding) = _assign(financier, receivableId, f.supplier, line, lineId);
        (uint256 advance, uint256 paid) = _checkAmounts(receivableId, outstanding * line.maxAdvanceBps, minPaid, maxDiscount, a);
        uint256 utilised = line.utilised;
        if (utilised + advance > line.limit) revert CreditLineLimitExceeded(lineId, utilised, advance, line.limit);
        // Fits: utilised + advance <= limit, a uint64.
        line.utilised = uint64(utilised + advance);
        f.status = Status.Active;
        f.principal = uint64(advance);
        emit FinancingApproved(receivableId, lineId, financier, holder, advance, paid, a.registrationHash);
        if (paid != 0) _token.safeTransferFrom(financier, holder, paid);
    }

    /// @dev Assigns the receivable to the financier once its requester still holds it, it is not
    /// overdue and its parties are verified and within the line's scope.
    function _assign(
        address financier,
        uint256 receivableId,
        address requestedBy,
        Line storage line,
        uint256 lineId
    ) private returns (address holder, uint256 outstanding) {
        _requireVerified(requestedBy, Roles.SUPPLIER);
        uint256 dueDate;
        address debtor;
        (holder, outstanding, dueDate, debtor) = _receivables.assignToFinancier(receivableId, financier);
        if (holder != requestedBy) revert FinancingHolderChanged(receivableId, requestedBy, holder);
        if (dueDate <= block.timestamp) revert FinancingReceivableOverdue(receivableId, dueDate);
        _requireVerified(debtor, Roles.BUYER);
        _checkScope(line, lineId, debtor, holder);
    }

    /// @dev `grossAdvance` is outstanding * maxAdvanceBps (not yet divided by BPS).
    function _checkAmounts(
        uint256 receivableId,
        uint256 grossAdvance,
        uint256 minPaid,
        uint256 maxDiscount,
        Approval calldata a
    ) private pure returns (uint256 advance, uint256 paid) {
        advance = a.advance;
        paid = a.paid;
        uint256 expected = grossAdvance / BPS;
        if (advance != expected || paid > advance) revert FinancingAdvanceMismatch(receivableId, advance, paid, expected);
        // Cannot underflow: paid <= advance.
        uint256 discount;
        unchecked {
            discount = advance - paid;
        }
        if (paid < minPaid || discount > maxDiscount) {
            revert FinancingTermsNotMet(receivableId, paid, minPaid, discount, maxDiscount);
        }
    }

    function _reject(address financier, uint256 receivableId, uint256 lineId, bytes32 reasonCode) private {
        Record storage f = _records[receivableId];
        if (f.status != Status.Requested) revert FinancingInvalidStatus(receivableId, f.status);
        uint256 requestedLine = f.lineId;
        if (lineId != requestedLine) revert FinancingLineMismatch(receivableId, lineId, requestedLine);
        if (_lines[lineId].financier != financier) revert CreditLineUnauthorized(lineId, financier);
        _requireVerified(financier, Roles.FINANCIER);
        f.status = Status.Rejected;
        emit FinancingRejected(receivableId, lineId, reasonCode);
    }

    function _writeOff(address financier, uint256 receivableId) private {
        Record storage f = _records[receivableId];
        if (f.status != Status.Active) revert FinancingInvalidStatus(receivableId, f.status);
        uint256 lineId = f.lineId;
        Line storage line = _lines[lineId];
        if (line.financier != financier) revert CreditLineUnauthorized(lineId, financier);
        _requireVerified(financier, Roles.FINANCIER);
        IReceivables.Status rs = _receivables.receivable(receivableId).status;
        if (rs != IReceivables.Status.Defaulted) revert FinancingInvalidReceivableStatus(receivableId, uint8(rs));
        uint64 principal = f.principal;
        // Cannot underflow: utilisation includes this financing's remaining principal.
        unchecked {
            line.utilised -= principal;
        }
        f.status = Status.WrittenOff;
        emit FinancingWrittenOff(receivableId, lineId, principal);
    }

    /// @dev One version-1 financing record, checked against its line and receivable (both imported
    /// before it) the way `onRepayment` and `writeOff` will read them.
    function _importFinancing(ImportedFinancing calldata m) private {
        uint256 receivableId = m.receivableId;
        Record storage f = _records[receivableId];
        if (f.status != Status.None) revert LedgerImportDuplicate(receivableId);
        // Version 1 had no Withdrawn.
        if (m.status == 0 || m.status > uint8(Status.WrittenOff)) _malformed(receivableId, ImportFault.Status);
        Status s = Status(m.status);
        if (m.supplier == address(0)) _malformed(receivableId, ImportFault.Seller);
        uint256 lineId = m.lineId;
        Line storage line = _lines[lineId];
        if (lineId > MAX_LINE_ID || line.financier == address(0)) _malformed(receivableId, ImportFault.Line);
        IReceivables.ReceivableView memory r = _receivables.receivable(receivableId);
        uint256 principal = m.principal;
        if (s == Status.Requested || s == Status.Rejected) {
            // Never approved: nothing lent. A request imported without terms has lapsed (slot B zero).
            if (principal != 0) _malformed(receivableId, ImportFault.Principal);
        } else {
            // Approved: the receivable went to the line's financier, for good.
            IReceivables.Status rs = r.status;
            bool fits = r.financed && r.holder == line.financier;
            if (s == Status.Active) {
                fits = fits && (rs == IReceivables.Status.Financed || rs == IReceivables.Status.Defaulted);
                if (principal == 0 || principal > line.utilised) _malformed(receivableId, ImportFault.Principal);
            } else if (s == Status.Repaid) {
                if (principal != 0) _malformed(receivableId, ImportFault.Principal);
            } else {
                fits = fits && (rs == IReceivables.Status.Defaulted || rs == IReceivables.Status.Paid);
                if (principal > type(uint64).max) _malformed(receivableId, ImportFault.Principal);
            }
            if (!fits) _malformed(receivableId, ImportFault.Receivable);
        }
        f.supplier = m.supplier;
        f.status = s;
        f.lineId = uint24(lineId);
        // Fits: zero, at most the line's utilisation (a uint64), or checked just above.
        f.principal = uint64(principal);
        emit FinancingImported(receivableId, lineId, m.supplier, m.status, principal);
    }

    function _malformed(uint256 id, ImportFault fault) private pure {
        revert LedgerImportInvalidRecord(id, fault);
    }

    function _checkTerms(LineTerms calldata t, uint256 utilised) private view {
        if (t.limit == 0 || t.limit > type(uint64).max || t.limit < utilised) {
            revert CreditLineInvalidLimit(t.limit, utilised);
        }
        if (t.maxAdvanceBps == 0 || t.maxAdvanceBps > BPS || t.discountBps > BPS) {
            revert CreditLineInvalidRates(t.maxAdvanceBps, t.discountBps);
        }
        if (t.expiry <= block.timestamp || t.expiry > type(uint48).max) revert CreditLineInvalidExpiry(t.expiry);
    }

    function _hashTerms(LineTerms calldata t) private pure returns (bytes32) {
        return keccak256(abi.encode(TERMS_TYPEHASH, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry));
    }

    function _hashApproval(Approval calldata a) private pure returns (bytes32) {
        return keccak256(abi.encode(APPROVAL_TYPEHASH, a.lineId, a.advance, a.paid, a.registrationHash));
    }

    function _checkScope(Line storage line, uint256 lineId, address debtor, address supplier) private view {
        bool debtorOutside = line.debtor != address(0) && line.debtor != debtor;
        bool supplierOutside = line.supplier != address(0) && line.supplier != supplier;
        if (debtorOutside || supplierOutside) {
            revert CreditLineScopeMismatch(lineId, debtor, supplier);
        }
    }

    function _line(uint256 lineId) private view returns (Line storage line) {
        line = _lines[lineId];
        if (line.financier == address(0)) revert CreditLineNotFound(lineId);
    }

    function _ownLine(address financier, uint256 lineId) private view returns (Line storage line) {
        line = _line(lineId);
        if (line.financier != financier) revert CreditLineUnauthorized(lineId, financier);
    }

    function _availableLine(uint256 lineId) private view returns (Line storage line) {
        line = _line(lineId);
        if (!line.open || line.expiry <= block.timestamp) revert CreditLineUnavailable(lineId);
    }

    function _requireVerified(address account, uint8 role) private view {
        if (!_registry.isVerified(account, role)) revert FinancingUnverifiedParty(account, role);
    }
}
