// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {LedgerImport} from "../common/LedgerImport.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IHeldPayments} from "../interfaces/IHeldPayments.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IReceivables, IRepaymentRouter} from "../interfaces/IReceivables.sol";
import {IReceivablesImport} from "../interfaces/ILedgerImport.sol";
import {IPauseClock} from "../interfaces/ISettlementToken.sol";
import {Roles} from "../libraries/Roles.sol";
import {ReceivableRecord as Record, ReceivablesImporter} from "./ReceivablesImporter.sol";

/// @title Receivables
/// @notice The receivables ledger: tokenisation, acceptance, cancellation, credit notes, splits,
/// transfers, payment and default. Each act is done by the participant it belongs to, directly or
/// through a relayed EIP-712 signature.
/// Invariants: a fingerprint and a document hash are each tokenised at most once, ever, and only
/// with an attester's signature over the invoice and its seller; outstanding <= face value; children
/// of a split sum to the parent's outstanding at the split; only the financing module can assign a
/// receivable to a financier, and only once.
/// @dev The ERC-721 owner lives inside the packed receivable record instead of OpenZeppelin's own
/// owner mapping, so tokenising writes two fresh slots (plus the holder's balance) rather than four:
/// `_ownerOf`, `balanceOf` and `_update` are overridden to read and write that record.
contract Receivables is
    IReceivables,
    IHeldPayments,
    IReceivablesImport,
    ERC721,
    AccessControlDefaultAdminRules,
    LedgerImport,
    SignedActions,
    ReentrancyGuardTransient
{
    using SafeERC20 for IERC20;

    /// @notice Longest allowed term: a due date at most this far after tokenisation.
    uint256 public constant MAX_TERM = 365 days;
    /// @notice Most children one split may create.
    uint256 public constant MAX_SPLIT_CHILDREN = 20;
    /// @notice Most invoices one batch may tokenise.
    uint256 public constant MAX_BATCH = 200;

    bytes32 private constant INVOICE_TYPEHASH =
        keccak256("Invoice(address debtor,uint256 faceValue,uint256 dueDate,bytes32 documentHash,bytes32 fingerprint)");
    bytes32 private constant TOKENISE_TYPEHASH =
        keccak256(
            "Tokenise(address seller,Invoice invoice,uint256 nonce,uint256 deadline)"
            "Invoice(address debtor,uint256 faceValue,uint256 dueDate,bytes32 documentHash,bytes32 fingerprint)"
        );
    bytes32 private constant TOKENISE_BATCH_TYPEHASH =
        keccak256(
            "TokeniseBatch(address seller,Invoice[] invoices,uint256 nonce,uint256 deadline)"
            "Invoice(address debtor,uint256 faceValue,uint256 dueDate,bytes32 documentHash,bytes32 fingerprint)"
        );
    bytes32 private constant INVOICE_ATTESTATION_TYPEHASH =
        keccak256(
            "InvoiceAttestation(address seller,Invoice invoice,uint256 expiry)"
            "Invoice(address debtor,uint256 faceValue,uint256 dueDate,bytes32 documentHash,bytes32 fingerprint)"
        );
    bytes32 private constant INVOICE_BATCH_ATTESTATION_TYPEHASH =
        keccak256(
            "InvoiceBatchAttestation(address seller,Invoice[] invoices,uint256 expiry)"
            "Invoice(address debtor,uint256 faceValue,uint256 dueDate,bytes32 documentHash,bytes32 fingerprint)"
        );
    bytes32 private constant ACCEPT_TYPEHASH =
        keccak256(
            "Accept(address debtor,uint256 receivableId,address seller,uint256 faceValue,uint256 dueDate,"
            "bytes32 documentHash,uint256 nonce,uint256 deadline)"
        );
    /// @dev Domain tags of the two id namespaces: a root id hashes (tag, fingerprint), 64 bytes; a
    /// child id hashes (other tag, parent, index), 96 bytes. Preimages of different lengths and tags
    /// never meet, so no fingerprint reaches a child id and no child id a root id.
    bytes32 private constant ROOT_ID_TAG = keccak256("SCF.receivable.root");
    bytes32 private constant CHILD_ID_TAG = keccak256("SCF.receivable.child");

    /// @notice Role of the keys whose attestations allow an invoice onto the ledger (granted by the admin).
    bytes32 public constant INVOICE_ATTESTER_ROLE = Roles.INVOICE_ATTESTER;
    bytes32 private constant CANCEL_TYPEHASH =
        keccak256("Cancel(address seller,uint256 receivableId,uint256 nonce,uint256 deadline)");
    bytes32 private constant CREDIT_NOTE_TYPEHASH =
        keccak256(
            "CreditNote(address holder,uint256 receivableId,uint256 amount,bytes32 creditNoteHash,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant SPLIT_TYPEHASH =
        keccak256("Split(address holder,uint256 receivableId,uint256[] amounts,uint256 nonce,uint256 deadline)");
    bytes32 private constant TRANSFER_TYPEHASH =
        keccak256("TransferReceivable(address holder,uint256 receivableId,address to,uint256 nonce,uint256 deadline)");
    bytes32 private constant PAY_TYPEHASH =
        keccak256("Pay(address debtor,uint256 receivableId,uint256 amount,uint256 nonce,uint256 deadline)");
    bytes32 private constant CLAIM_TYPEHASH = keccak256("ClaimHeld(address recipient,uint256 nonce,uint256 deadline)");

    IParticipantRegistry private immutable _registry;
    IERC20 private immutable _token;
    uint256 private immutable _minDenomination;
    uint256 private immutable _gracePeriod;
    /// @dev Immutable (the deployment predicts its address) so a repayment does not pay a cold
    /// storage read to find it.
    IRepaymentRouter private immutable _financing;

    mapping(uint256 id => Record) private _records;
    mapping(address holder => uint256) private _holdings;
    mapping(uint256 childId => uint256 parentId) private _parents;
    mapping(address recipient => uint256 amount) private _held;
    /// @dev Every invoice document ever tokenised: uniqueness, and what `accept` checks the
    /// document hash against (the record has no room for it).
    mapping(bytes32 documentHash => uint256 receivableId) private _documents;

    /// @param registry Participant registry.
    /// @param token Settlement token (any ERC-20; if it implements IPauseClock, a default needs a
    /// full grace period after its last unpause too). It must let this contract hold it (a system
    /// account of the SettlementToken) for payments to be held.
    /// @param financing The financing module, the only contract that may assign receivables (its
    /// address is known before it is deployed: it takes this contract's address in turn).
    /// @param admin Holder of DEFAULT_ADMIN_ROLE.
    /// @param adminDelay Seconds a new admin waits before accepting the role (two-step transfer).
    /// @param attester The first invoice attester (INVOICE_ATTESTER_ROLE); the admin grants or
    /// revokes others later.
    /// @param minDenomination Smallest face value a split child may have.
    /// @param gracePeriod Seconds after the due date before an unpaid receivable may be defaulted.
    /// @param migrator The key that imports a version-1 ledger until the seal, or zero for none
    /// (the import is then sealed from the start).
    constructor(
        IParticipantRegistry registry,
        IERC20 token,
        IRepaymentRouter financing,
        address admin,
        uint48 adminDelay,
        address attester,
        uint256 minDenomination,
        uint256 gracePeriod,
        address migrator
    )
        ERC721("SCF Receivable", "SCFR")
        EIP712("SCF Receivables", "1")
        AccessControlDefaultAdminRules(adminDelay, admin)
        LedgerImport(migrator)
    {
        if (address(financing) == address(0)) revert ReceivableInvalidFinancingModule();
        _registry = registry;
        _token = token;
        _financing = financing;
        _minDenomination = minDenomination;
        _gracePeriod = gracePeriod;
        _grantRole(INVOICE_ATTESTER_ROLE, attester);
    }

    // ------------------------------------------------------------------ tokenise

    /// @inheritdoc IReceivables
    function tokenise(Invoice calldata invoice, Attestation calldata attestation) external returns (uint256 id) {
        _requireVerified(msg.sender, Roles.SUPPLIER);
        _requireAttested(_attestationHash(msg.sender, _hashInvoice(invoice), attestation.expiry), attestation);
        return _tokenise(msg.sender, invoice);
    }

    /// @inheritdoc IReceivables
    function tokeniseBySig(
        address seller,
        Invoice calldata invoice,
        Attestation calldata attestation,
        Authorization calldata auth
    ) external returns (uint256 id) {
        bytes32 invoiceHash = _hashInvoice(invoice);
        _verifySigned(seller, keccak256(abi.encode(TOKENISE_TYPEHASH, seller, invoiceHash, auth.nonce, auth.deadline)), auth);
        _requireVerified(seller, Roles.SUPPLIER);
        _requireAttested(_attestationHash(seller, invoiceHash, attestation.expiry), attestation);
        return _tokenise(seller, invoice);
    }

    /// @inheritdoc IReceivables
    function tokeniseBatch(
        Invoice[] calldata invoices,
        Attestation calldata attestation
    ) external returns (uint256[] memory ids) {
        _requireVerified(msg.sender, Roles.SUPPLIER);
        _requireAttested(_batchAttestationHash(msg.sender, _hashInvoices(invoices), attestation.expiry), attestation);
        return _tokeniseBatch(msg.sender, invoices);
    }

    /// @inheritdoc IReceivables
    function tokeniseBatchBySig(
        address seller,
        Invoice[] calldata invoices,
        Attestation calldata attestation,
        Authorization calldata auth
    ) external returns (uint256[] memory ids) {
        // Seller and attester sign the same array of invoice hashes: hashed once for both.
        bytes32 invoicesHash = _hashInvoices(invoices);
        _verifySigned(
            seller,
            keccak256(abi.encode(TOKENISE_BATCH_TYPEHASH, seller, invoicesHash, auth.nonce, auth.deadline)),
            auth
        );
        _requireVerified(seller, Roles.SUPPLIER);
        _requireAttested(_batchAttestationHash(seller, invoicesHash, attestation.expiry), attestation);
        return _tokeniseBatch(seller, invoices);
    }

    // ------------------------------------------------------------------ accept / cancel

    /// @inheritdoc IReceivables
    function accept(uint256 id, Terms calldata terms) external {
        _accept(msg.sender, id, terms);
    }

    /// @inheritdoc IReceivables
    function acceptBySig(address debtor, uint256 id, Terms calldata terms, Authorization calldata auth) external {
        _verifySigned(
            debtor,
            keccak256(
                abi.encode(
                    ACCEPT_TYPEHASH,
                    debtor,
                    id,
                    terms.seller,
                    terms.faceValue,
                    terms.dueDate,
                    terms.documentHash,
                    auth.nonce,
                    auth.deadline
                )
            ),
            auth
        );
        _accept(debtor, id, terms);
    }

    /// @inheritdoc IReceivables
    function cancel(uint256 id) external {
        _cancel(msg.sender, id);
    }

    /// @inheritdoc IReceivables
    function cancelBySig(address seller, uint256 id, Authorization calldata auth) external {
        _verifySigned(
            seller,
            keccak256(abi.encode(CANCEL_TYPEHASH, seller, id, auth.nonce, auth.deadline)),
            auth
        );
        _cancel(seller, id);
    }

    // ------------------------------------------------------------------ credit notes

    /// @inheritdoc IReceivables
    function applyCreditNote(uint256 id, uint256 amount, bytes32 creditNoteHash) external {
        _applyCreditNote(msg.sender, id, amount, creditNoteHash);
    }

    /// @inheritdoc IReceivables
    function applyCreditNoteBySig(
        address holder,
        uint256 id,
        uint256 amount,
        bytes32 creditNoteHash,
        Authorization calldata auth
    ) external {
        _verifySigned(
            holder,
            keccak256(
                abi.encode(CREDIT_NOTE_TYPEHASH, holder, id, amount, creditNoteHash, auth.nonce, auth.deadline)
            ),
            auth
        );
        _applyCreditNote(holder, id, amount, creditNoteHash);
    }

    // ------------------------------------------------------------------ split / transfer

    /// @inheritdoc IReceivables
    function split(uint256 id, uint256[] calldata amounts) external returns (uint256[] memory childIds) {
        return _split(msg.sender, id, amounts);
    }

    /// @inheritdoc IReceivables
    function splitBySig(
        address holder,
        uint256 id,
        uint256[] calldata amounts,
        Authorization calldata auth
    ) external returns (uint256[] memory childIds) {
        _verifySigned(
            holder,
            keccak256(
                abi.encode(SPLIT_TYPEHASH, holder, id, keccak256(abi.encodePacked(amounts)), auth.nonce, auth.deadline)
            ),
            auth
        );
        return _split(holder, id, amounts);
    }

    /// @inheritdoc IReceivables
    function transferBySig(
        address holder,
        uint256 id,
        address to,
        Authorization calldata auth
    ) external {
        _verifySigned(
            holder,
            keccak256(abi.encode(TRANSFER_TYPEHASH, holder, id, to, auth.nonce, auth.deadline)),
            auth
        );
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        _update(to, id, holder);
    }

    // ------------------------------------------------------------------ settlement

    /// @inheritdoc IReceivables
    function pay(uint256 id, uint256 amount) external nonReentrant {
        _pay(msg.sender, id, amount);
    }

    /// @inheritdoc IReceivables
    function payBySig(
        address debtor,
        uint256 id,
        uint256 amount,
        Authorization calldata auth
    ) external nonReentrant {
        _verifySigned(
            debtor,
            keccak256(abi.encode(PAY_TYPEHASH, debtor, id, amount, auth.nonce, auth.deadline)),
            auth
        );
        _pay(debtor, id, amount);
    }

    /// @inheritdoc IReceivables
    /// @dev The holder is the financier once a receivable is financed (a financed receivable never
    /// moves), so "the holder" covers the financier too.
    function markDefaulted(uint256 id) external {
        Record storage r = _existing(id);
        Status s = r.status;
        if (s != Status.Accepted && s != Status.Financed) revert ReceivableInvalidStatus(id, s);
        address holder = r.holder;
        if (msg.sender != holder) revert ReceivableUnauthorized(id, msg.sender);
        if (!_registry.isActiveMember(holder)) revert ReceivableUnverifiedParty(holder, 0);
        uint256 overdueAt = _overdueAt(r.dueDate);
        if (block.timestamp <= overdueAt) revert ReceivableNotOverdue(id, overdueAt);
        r.status = Status.Defaulted;
        emit ReceivableDefaulted(id, holder, r.outstanding);
    }

    // ------------------------------------------------------------------ held payments

    /// @inheritdoc IHeldPayments
    function claim() external nonReentrant returns (uint256 amount) {
        return _claim(msg.sender);
    }

    /// @inheritdoc IHeldPayments
    function claimBySig(address recipient, Authorization calldata auth) external nonReentrant returns (uint256 amount) {
        _verifySigned(recipient, keccak256(abi.encode(CLAIM_TYPEHASH, recipient, auth.nonce, auth.deadline)), auth);
        return _claim(recipient);
    }

    /// @inheritdoc IHeldPayments
    function heldFor(address account) external view returns (uint256) {
        return _held[account];
    }

    // ------------------------------------------------------------------ financing module

    /// @inheritdoc IReceivables
    function assignToFinancier(
        uint256 id,
        address financier
    ) external returns (address supplier, uint256 outstanding, uint256 dueDate, address debtor) {
        if (msg.sender != address(_financing)) revert ReceivableUnauthorized(id, msg.sender);
        Record storage r = _existing(id);
        if (r.status != Status.Accepted) revert ReceivableInvalidStatus(id, r.status);
        supplier = r.holder;
        outstanding = r.outstanding;
        dueDate = r.dueDate;
        debtor = r.debtor;
        // One slot write: holder, status and the financed flag share slot A.
        r.holder = financier;
        r.status = Status.Financed;
        r.financed = true;
        _moveHolding(supplier, financier, id);
        emit ReceivableAssigned(id, supplier, financier);
    }

    // ------------------------------------------------------------------ import from version 1

    /// @inheritdoc IReceivablesImport
    /// @dev The records are forwarded still ABI-encoded: the library decodes them, so their decoder
    /// is not in this contract's code.
    function importReceivables(ImportedReceivable[] calldata) external {
        _requireImporting();
        ReceivablesImporter.importReceivables(_records, _holdings, _parents, _documents, msg.data[4:]);
    }

    /// @inheritdoc IReceivablesImport
    function importPayments(ImportedPayment[] calldata) external {
        _requireImporting();
        ReceivablesImporter.importPayments(_records, msg.data[4:]);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IReceivables
    function receivable(uint256 id) external view returns (ReceivableView memory v) {
        Record storage r = _existing(id);
        v = ReceivableView({
            id: id,
            holder: r.holder,
            debtor: r.debtor,
            faceValue: r.faceValue,
            outstanding: r.outstanding,
            dueDate: r.dueDate,
            status: r.status,
            financed: r.financed,
            parentId: _parents[id]
        });
    }

    /// @inheritdoc IReceivables
    function settlementToken() external view returns (address) {
        return address(_token);
    }

    /// @notice The registry, the financing module, the minimum split denomination and the grace period.
    function configuration()
        external
        view
        returns (address registry, address financing, uint256 minDenomination, uint256 gracePeriod)
    {
        return (address(_registry), address(_financing), _minDenomination, _gracePeriod);
    }

    /// @inheritdoc IReceivables
    function receivableIdOf(bytes32 fingerprint) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(ROOT_ID_TAG, fingerprint)));
    }

    /// @inheritdoc IReceivables
    function childId(uint256 parentId, uint256 index) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(CHILD_ID_TAG, parentId, index)));
    }

    /// @inheritdoc IReceivables
    function receivableOfDocument(bytes32 documentHash) external view returns (uint256) {
        return _documents[documentHash];
    }

    /// @inheritdoc ERC721
    function balanceOf(address owner) public view override returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _holdings[owner];
    }

    /// @inheritdoc ERC721
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(ERC721, AccessControlDefaultAdminRules) returns (bool) {
        return ERC721.supportsInterface(interfaceId) || AccessControlDefaultAdminRules.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _tokenise(address seller, Invoice calldata invoice) private returns (uint256 id) {
        _requireVerified(invoice.debtor, Roles.BUYER);
        id = _mintInvoice(seller, invoice);
        // Cannot overflow: holdings count existing tokens.
        unchecked {
            _holdings[seller] += 1;
        }
    }

    function _tokeniseBatch(address seller, Invoice[] calldata invoices) private returns (uint256[] memory ids) {
        uint256 n = invoices.length;
        if (n == 0 || n > MAX_BATCH) revert ReceivableInvalidBatchSize(n);
        ids = new uint256[](n);
        address lastDebtor;
        for (uint256 i; i < n; ++i) {
            Invoice calldata inv = invoices[i];
            // Batches usually bill one buyer: ask the registry once per run of the same debtor.
            if (i == 0 || inv.debtor != lastDebtor) {
                _requireVerified(inv.debtor, Roles.BUYER);
                lastDebtor = inv.debtor;
            }
            ids[i] = _mintInvoice(seller, inv);
        }
        // Cannot overflow: bounded by MAX_BATCH new tokens.
        unchecked {
            _holdings[seller] += n;
        }
    }

    /// @dev Writes the record (holder included) and emits the events; the caller adds the holding.
    function _mintInvoice(address seller, Invoice calldata inv) private returns (uint256 id) {
        if (seller == inv.debtor) revert ReceivableSelfDealing(seller);
        if (inv.fingerprint == bytes32(0) || inv.documentHash == bytes32(0)) revert ReceivableInvalidHash();
        uint256 face = inv.faceValue;
        if (face == 0 || face > type(uint64).max) revert ReceivableInvalidAmount(face);
        uint256 latest = block.timestamp + MAX_TERM;
        if (inv.dueDate <= block.timestamp || inv.dueDate > latest) {
            revert ReceivableInvalidDueDate(inv.dueDate, block.timestamp + 1, latest);
        }
        id = receivableIdOf(inv.fingerprint);
        Record storage r = _records[id];
        if (r.status != Status.None) revert ReceivableDuplicate(id);
        uint256 prior = _documents[inv.documentHash];
        if (prior != 0) revert ReceivableDocumentUsed(inv.documentHash, prior);
        _documents[inv.documentHash] = id;
        r.holder = seller;
        r.outstanding = uint64(face);
        r.status = Status.Issued;
        r.debtor = inv.debtor;
        r.faceValue = uint64(face);
        r.dueDate = uint32(inv.dueDate);
        emit Transfer(address(0), seller, id);
        emit ReceivableTokenised(id, seller, inv.debtor, face, inv.dueDate, inv.documentHash, inv.fingerprint);
    }

    function _accept(address debtor, uint256 id, Terms calldata terms) private {
        Record storage r = _existing(id);
        if (r.debtor != debtor) revert ReceivableUnauthorized(id, debtor);
        if (r.status != Status.Issued) revert ReceivableInvalidStatus(id, r.status);
        // Before acceptance a receivable cannot move, so its holder is its seller. A squatter's
        // record under the same id differs in seller, amount, date or document: the debtor's
        // consent to the real terms does not fit it.
        if (r.holder != terms.seller) revert ReceivableTermsMismatch(id, TermsField.Seller);
        if (r.faceValue != terms.faceValue) revert ReceivableTermsMismatch(id, TermsField.FaceValue);
        if (r.dueDate != terms.dueDate) revert ReceivableTermsMismatch(id, TermsField.DueDate);
        if (_documents[terms.documentHash] != id) revert ReceivableTermsMismatch(id, TermsField.DocumentHash);
        _requireVerified(debtor, Roles.BUYER);
        r.status = Status.Accepted;
        emit ReceivableAccepted(id, debtor);
    }

    function _cancel(address seller, uint256 id) private {
        Record storage r = _existing(id);
        if (r.status != Status.Issued) revert ReceivableInvalidStatus(id, r.status);
        // Before acceptance a receivable cannot move, so its holder is its seller.
        if (r.holder != seller) revert ReceivableUnauthorized(id, seller);
        _requireVerified(seller, Roles.SUPPLIER);
        r.status = Status.Cancelled;
        _burnHolding(seller, id);
        emit ReceivableCancelled(id, seller);
    }

    function _applyCreditNote(address holder, uint256 id, uint256 amount, bytes32 creditNoteHash) private {
        Record storage r = _existing(id);
        if (r.holder != holder) revert ReceivableUnauthorized(id, holder);
        Status s = r.status;
        // A financed receivable's dilution is between supplier and financier: refused here so the
        // credit line's utilisation always matches what the debtor still owes.
        if (s != Status.Issued && s != Status.Accepted) revert ReceivableInvalidStatus(id, s);
        _requireActive(holder);
        if (creditNoteHash == bytes32(0)) revert ReceivableInvalidHash();
        if (amount == 0) revert ReceivableInvalidAmount(amount);
        uint256 outstanding = r.outstanding;
        if (amount > outstanding) revert ReceivableAmountExceedsOutstanding(id, amount, outstanding);
        // Cannot underflow: checked just above.
        unchecked {
            outstanding -= amount;
        }
        r.outstanding = uint64(outstanding);
        if (outstanding == 0) r.status = Status.Paid;
        emit CreditNoteApplied(id, holder, amount, outstanding, creditNoteHash);
    }

    function _split(address holder, uint256 id, uint256[] calldata amounts) private returns (uint256[] memory ids) {
        Record storage parent = _existing(id);
        if (parent.holder != holder) revert ReceivableUnauthorized(id, holder);
        if (parent.status != Status.Accepted) revert ReceivableInvalidStatus(id, parent.status);
        _requireVerified(holder, Roles.SUPPLIER);
        uint256 n = amounts.length;
        if (n < 2 || n > MAX_SPLIT_CHILDREN) revert ReceivableInvalidSplitCount(n);
        uint256 outstanding = parent.outstanding;
        uint256 sum;
        for (uint256 i; i < n; ++i) {
            uint256 a = amounts[i];
            if (a < _minDenomination || a == 0) revert ReceivableBelowMinimumDenomination(a, _minDenomination);
            if (a > outstanding) revert ReceivableAmountExceedsOutstanding(id, a, outstanding);
            // Cannot overflow: at most MAX_SPLIT_CHILDREN parts, each at most a uint64.
            unchecked {
                sum += a;
            }
        }
        if (sum != outstanding) revert ReceivableSplitSumMismatch(id, sum, outstanding);

        parent.status = Status.Split;
        _burnHolding(holder, id);
        address debtor = parent.debtor;
        uint32 dueDate = parent.dueDate;
        ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 cid = childId(id, i);
            Record storage c = _records[cid];
            if (c.status != Status.None) revert ReceivableDuplicate(cid);
            // Each amount is at most the parent's outstanding, itself a uint64.
            uint64 a = uint64(amounts[i]);
            c.holder = holder;
            c.outstanding = a;
            c.status = Status.Accepted;
            c.debtor = debtor;
            c.faceValue = a;
            c.dueDate = dueDate;
            _parents[cid] = id;
            ids[i] = cid;
            emit Transfer(address(0), holder, cid);
            emit ReceivableSplit(id, cid, holder, a);
        }
        // Cannot overflow: at most MAX_SPLIT_CHILDREN new tokens.
        unchecked {
            _holdings[holder] += n;
        }
    }

    function _pay(address debtor, uint256 id, uint256 amount) private {
        Record storage r = _existing(id);
        if (r.debtor != debtor) revert ReceivableUnauthorized(id, debtor);
        Status s = r.status;
        if (s != Status.Accepted && s != Status.Financed && s != Status.Defaulted) {
            revert ReceivableInvalidStatus(id, s);
        }
        if (amount == 0) revert ReceivableInvalidAmount(amount);
        uint256 outstanding = r.outstanding;
        if (amount > outstanding) revert ReceivableAmountExceedsOutstanding(id, amount, outstanding);
        _requireActive(debtor);
        // Cannot underflow: checked just above.
        unchecked {
            outstanding -= amount;
        }
        address holder = r.holder;
        r.outstanding = uint64(outstanding);
        if (outstanding == 0) r.status = Status.Paid;
        emit ReceivablePaid(id, debtor, holder, amount, outstanding);

        if (r.financed) {
            (address supplier, uint256 toSupplier) = _financing.onRepayment(id, amount);
            if (toSupplier != 0) _deliver(id, debtor, supplier, toSupplier);
            if (amount > toSupplier) _deliver(id, debtor, holder, amount - toSupplier);
        } else {
            _deliver(id, debtor, holder, amount);
        }
    }

    /// @dev Moves `amount` from the debtor straight to `recipient`; when the token refuses that
    /// (the recipient is suspended, past KYC or no longer a member) the amount is pulled into this
    /// contract instead and held for `recipient`. The token's own rule decides who can receive, so
    /// the common case costs nothing extra and any ERC-20 works. If the debtor cannot pay (balance,
    /// allowance, a paused token) the second transfer fails too and the payment reverts with the
    /// token's reason.
    function _deliver(uint256 id, address debtor, address recipient, uint256 amount) private {
        if (_token.trySafeTransferFrom(debtor, recipient, amount)) return;
        _token.safeTransferFrom(debtor, address(this), amount);
        // Cannot overflow: bounded by the token's total supply.
        unchecked {
            _held[recipient] += amount;
        }
        emit PaymentHeld(id, recipient, amount);
    }

    function _claim(address recipient) private returns (uint256 amount) {
        amount = _held[recipient];
        if (amount == 0) revert ReceivableNothingHeld(recipient);
        _requireActive(recipient);
        _held[recipient] = 0;
        emit PaymentClaimed(recipient, amount);
        _token.safeTransfer(recipient, amount);
    }

    /// @dev Due date plus grace, and never sooner than a full grace period after the settlement
    /// token was last unpaused: while it is paused nobody can pay, so that time must not count
    /// against the debtor. A token without IPauseClock (or that answers malformed data) is taken
    /// as never paused: a low-level call, because try/catch cannot catch a malformed answer.
    function _overdueAt(uint256 dueDate) private view returns (uint256 overdueAt) {
        overdueAt = dueDate + _gracePeriod;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(_token).staticcall(abi.encodeCall(IPauseClock.pauseClock, ()));
        if (!ok || ret.length != 64) return overdueAt;
        (uint256 isPaused, uint256 lastUnpausedAt) = abi.decode(ret, (uint256, uint256));
        if (isPaused != 0) revert ReceivableSettlementPaused(address(_token));
        uint256 afterPause = lastUnpausedAt + _gracePeriod;
        if (afterPause > overdueAt) overdueAt = afterPause;
    }

    /// @dev ERC-721 transfers (transferFrom, safeTransferFrom, transferBySig) land here. Only an
    /// accepted, unfinanced receivable moves, from a verified member to a verified supplier or
    /// financier. Minting, burning and assignment use the private helpers below instead.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        Record storage r = _records[tokenId];
        from = r.holder;
        if (from == address(0)) revert ERC721NonexistentToken(tokenId);
        if (auth != address(0)) {
            _checkAuthorized(from, auth, tokenId);
            // An operator acts for the holder: it must be on the ledger as much as the holder.
            if (auth != from) _requireActive(auth);
        }
        if (r.status != Status.Accepted) revert ReceivableInvalidStatus(tokenId, r.status);
        if (!_registry.isActiveMember(from)) revert ReceivableUnverifiedParty(from, 0);
        if (!_registry.isVerified(to, Roles.SUPPLIER) && !_registry.isVerified(to, Roles.FINANCIER)) {
            revert ReceivableUnverifiedParty(to, Roles.SUPPLIER | Roles.FINANCIER);
        }
        r.holder = to;
        _moveHolding(from, to, tokenId);
    }

    /// @dev Approving someone lets it move the receivable: only an active member may be approved.
    function _approve(address to, uint256 tokenId, address auth, bool emitEvent) internal override {
        if (to != address(0)) _requireActive(to);
        super._approve(to, tokenId, auth, emitEvent);
    }

    /// @dev As `_approve`, for an operator of every receivable of `owner`.
    function _setApprovalForAll(address owner, address operator, bool approved) internal override {
        if (approved) _requireActive(operator);
        super._setApprovalForAll(owner, operator, approved);
    }

    /// @inheritdoc ERC721
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        return _records[tokenId].holder;
    }

    function _moveHolding(address from, address to, uint256 id) private {
        _approve(address(0), id, address(0), false);
        // Cannot underflow or overflow: `from` holds `id`, and holdings count existing tokens.
        unchecked {
            _holdings[from] -= 1;
            _holdings[to] += 1;
        }
        emit Transfer(from, to, id);
    }

    /// @dev Ends the token (cancel, split) but keeps the record, so the id can never be reused.
    function _burnHolding(address holder, uint256 id) private {
        _approve(address(0), id, address(0), false);
        _records[id].holder = address(0);
        // Cannot underflow: `holder` holds `id`.
        unchecked {
            _holdings[holder] -= 1;
        }
        emit Transfer(holder, address(0), id);
    }

    function _existing(uint256 id) private view returns (Record storage r) {
        r = _records[id];
        if (r.status == Status.None) revert ReceivableNotFound(id);
    }

    function _requireVerified(address account, uint8 role) private view {
        if (!_registry.isVerified(account, role)) revert ReceivableUnverifiedParty(account, role);
    }

    /// @dev An active member with valid KYC, in whatever role: reported with an empty role mask.
    function _requireActive(address account) private view {
        if (!_registry.isActiveMember(account)) revert ReceivableUnverifiedParty(account, 0);
    }

    /// @dev EIP-712 hash of an `Invoice[]`: keccak of the concatenated invoice struct hashes.
    function _hashInvoices(Invoice[] calldata invoices) private pure returns (bytes32) {
        uint256 n = invoices.length;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) hashes[i] = _hashInvoice(invoices[i]);
        return keccak256(abi.encodePacked(hashes));
    }

    function _attestationHash(address seller, bytes32 invoiceHash, uint256 expiry) private pure returns (bytes32) {
        return keccak256(abi.encode(INVOICE_ATTESTATION_TYPEHASH, seller, invoiceHash, expiry));
    }

    function _batchAttestationHash(address seller, bytes32 invoicesHash, uint256 expiry) private pure returns (bytes32) {
        return keccak256(abi.encode(INVOICE_BATCH_ATTESTATION_TYPEHASH, seller, invoicesHash, expiry));
    }

    /// @dev The attestation is not single-use: it names the seller and every invoice field, and the
    /// fingerprint and document it covers can be tokenised only once anyway.
    function _requireAttested(bytes32 structHash, Attestation calldata attestation) private view {
        if (block.timestamp > attestation.expiry) {
            revert ReceivableAttestationExpired(attestation.expiry, block.timestamp);
        }
        (address signer, , ) = ECDSA.tryRecover(_hashTypedDataV4(structHash), attestation.signature);
        if (signer == address(0) || !hasRole(INVOICE_ATTESTER_ROLE, signer)) revert ReceivableAttesterUnauthorized(signer);
    }

    function _hashInvoice(Invoice calldata inv) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(INVOICE_TYPEHASH, inv.debtor, inv.faceValue, inv.dueDate, inv.documentHash, inv.fingerprint)
            );
    }
}
