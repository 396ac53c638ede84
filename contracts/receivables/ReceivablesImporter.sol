// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ILedgerImport, IReceivablesImport} from "../interfaces/ILedgerImport.sol";
import {IReceivables} from "../interfaces/IReceivables.sol";

/// @dev A receivable as Receivables stores it, packed. Slot A: holder (160) | outstanding (64) |
/// status (8) | financed (8). Slot B: debtor (160) | faceValue (64) | dueDate (32). Amounts are in
/// fen: 2^64 fen is 1.8e17 yuan, beyond any invoice. uint32 seconds last until 2106 and a due date
/// is at most one year out. Defined here so the importer below writes the same layout.
struct ReceivableRecord {
    address holder;
    uint64 outstanding;
    IReceivables.Status status;
    bool financed;
    address debtor;
    uint64 faceValue;
    uint32 dueDate;
}

/// @title ReceivablesImporter
/// @notice Writes version-1 receivables into Receivables' storage and announces their payment history
/// (IReceivablesImport). An external
/// library, reached by DELEGATECALL from `Receivables.importReceivables`: the import runs once in a
/// ledger's life, so its code lives outside Receivables, which must stay under the 24,576-byte
/// contract size limit. Events and reverts come from Receivables' address, as declared in
/// IReceivablesImport.
library ReceivablesImporter {
    /// @dev Receivables' root id tag: an imported version-2 fingerprint reserves the id
    /// `receivableIdOf(fingerprint)` = keccak256(abi.encode(ROOT_ID_TAG, fingerprint)).
    bytes32 private constant ROOT_ID_TAG = keccak256("SCF.receivable.root");

    /// @notice Checks each record against the version-2 rules that read it and writes it as it was.
    /// The caller (Receivables) has checked the migrator and the seal.
    /// @param encoded The arguments of `importReceivables(ImportedReceivable[])`, ABI-encoded.
    function importReceivables(
        mapping(uint256 => ReceivableRecord) storage records,
        mapping(address => uint256) storage holdings,
        mapping(uint256 => uint256) storage parents,
        mapping(bytes32 => uint256) storage documents,
        bytes calldata encoded
    ) external {
        IReceivablesImport.ImportedReceivable[] memory ms = abi.decode(encoded, (IReceivablesImport.ImportedReceivable[]));
        uint256 n = ms.length;
        for (uint256 i; i < n; ++i) _importOne(records, holdings, parents, documents, ms[i]);
    }

    /// @notice Checks each payment against its imported receivable and announces it; writes nothing.
    /// The caller (Receivables) has checked the migrator and the seal.
    /// @param encoded The arguments of `importPayments(ImportedPayment[])`, ABI-encoded.
    function importPayments(mapping(uint256 => ReceivableRecord) storage records, bytes calldata encoded) external {
        IReceivablesImport.ImportedPayment[] memory ps = abi.decode(encoded, (IReceivablesImport.ImportedPayment[]));
        uint256 n = ps.length;
        for (uint256 i; i < n; ++i) {
            IReceivablesImport.ImportedPayment memory p = ps[i];
            uint256 id = p.receivableId;
            ReceivableRecord storage r = records[id];
            if (r.status == IReceivables.Status.None) revert IReceivables.ReceivableNotFound(id);
            if (p.amount == 0 || p.outstandingAfter > r.faceValue) _malformed(id, ILedgerImport.ImportFault.Amount);
            if (p.debtor != r.debtor) _malformed(id, ILedgerImport.ImportFault.Debtor);
            if (p.holder == address(0)) _malformed(id, ILedgerImport.ImportFault.Holder);
            emit IReceivablesImport.PaymentImported(
                id,
                p.debtor,
                p.holder,
                p.amount,
                p.outstandingAfter,
                p.paidAt,
                p.originalBlock,
                p.originalTxHash,
                p.originalLogIndex
            );
        }
    }

    /// @dev Checks one version-1 record against the version-2 rules that read it, then writes it
    /// as it was: record, lineage, document and fingerprint reservations, token and holding.
    function _importOne(
        mapping(uint256 => ReceivableRecord) storage records,
        mapping(address => uint256) storage holdings,
        mapping(uint256 => uint256) storage parents,
        mapping(bytes32 => uint256) storage documents,
        IReceivablesImport.ImportedReceivable memory m
    ) private {
        uint256 id = m.id;
        ReceivableRecord storage r = records[id];
        if (r.status != IReceivables.Status.None) revert ILedgerImport.LedgerImportDuplicate(id);
        IReceivables.Status s = _check(m);
        uint256 parentId = m.parentId;
        if (parentId != 0) {
            // A split child: its parent is a split tombstone of the same debt, at least its size.
            ReceivableRecord storage p = records[parentId];
            bool fits = p.status == IReceivables.Status.Split && p.debtor == m.debtor && p.dueDate == m.dueDate;
            if (!fits || m.faceValue > p.outstanding || s == IReceivables.Status.Issued) {
                _malformed(id, ILedgerImport.ImportFault.Parent);
            }
            if (m.fingerprint != bytes32(0)) _malformed(id, ILedgerImport.ImportFault.Fingerprint);
            parents[id] = parentId;
        }
        bytes32 doc = m.documentHash;
        if (doc != bytes32(0)) {
            uint256 prior = documents[doc];
            if (prior != 0) revert IReceivables.ReceivableDocumentUsed(doc, prior);
            documents[doc] = id;
        }
        if (m.fingerprint != bytes32(0)) {
            // The same invoice's version-2 root id becomes a cancelled tombstone, so tokenising the
            // invoice again on version 2 fails as a duplicate.
            uint256 rootId = uint256(keccak256(abi.encode(ROOT_ID_TAG, m.fingerprint)));
            ReceivableRecord storage root = records[rootId];
            if (root.status != IReceivables.Status.None) revert ILedgerImport.LedgerImportDuplicate(rootId);
            root.status = IReceivables.Status.Cancelled;
        }
        address holder = m.holder;
        // Fit: checked in _check.
        r.holder = holder;
        r.outstanding = uint64(m.outstanding);
        r.status = s;
        r.financed = m.financed;
        r.debtor = m.debtor;
        r.faceValue = uint64(m.faceValue);
        r.dueDate = uint32(m.dueDate);
        if (holder != address(0)) {
            // Cannot overflow: holdings count existing tokens.
            unchecked {
                holdings[holder] += 1;
            }
            emit IERC721.Transfer(address(0), holder, id);
        }
        _emitImported(m);
    }

    /// @dev On its own for the stack: the whole record, field by field.
    function _emitImported(IReceivablesImport.ImportedReceivable memory m) private {
        emit IReceivablesImport.ReceivableImported(
            m.id,
            m.parentId,
            m.holder,
            m.seller,
            m.debtor,
            m.faceValue,
            m.outstanding,
            m.dueDate,
            m.status,
            m.financed,
            m.documentHash,
            m.fingerprint
        );
    }

    /// @dev The checks a record passes on its own; returns its status.
    function _check(IReceivablesImport.ImportedReceivable memory m) private pure returns (IReceivables.Status s) {
        uint256 id = m.id;
        if (id == 0) _malformed(id, ILedgerImport.ImportFault.Id);
        if (m.status == 0 || m.status > uint8(IReceivables.Status.Split)) _malformed(id, ILedgerImport.ImportFault.Status);
        s = IReceivables.Status(m.status);
        // Cancelled and split records are tombstones: they keep the id used but are no token.
        bool tombstone = s == IReceivables.Status.Cancelled || s == IReceivables.Status.Split;
        if ((m.holder == address(0)) != tombstone) _malformed(id, ILedgerImport.ImportFault.Holder);
        // Until acceptance `accept` and `cancel` take the holder for the seller.
        if (m.seller == address(0) || (s == IReceivables.Status.Issued && m.holder != m.seller)) {
            _malformed(id, ILedgerImport.ImportFault.Seller);
        }
        if (m.debtor == address(0)) _malformed(id, ILedgerImport.ImportFault.Debtor);
        uint256 face = m.faceValue;
        uint256 outstanding = m.outstanding;
        bool paid = s == IReceivables.Status.Paid;
        if (face == 0 || face > type(uint64).max || outstanding > face || (outstanding == 0) != paid) {
            _malformed(id, ILedgerImport.ImportFault.Amount);
        }
        if (m.dueDate == 0 || m.dueDate > type(uint32).max) _malformed(id, ILedgerImport.ImportFault.DueDate);
        // `pay` routes a financed receivable's payments through the financing module.
        bool financedStatus = s == IReceivables.Status.Financed;
        bool mayBeFinanced = financedStatus || paid || s == IReceivables.Status.Defaulted;
        if (m.financed ? !mayBeFinanced : financedStatus) _malformed(id, ILedgerImport.ImportFault.Financed);
    }

    function _malformed(uint256 id, ILedgerImport.ImportFault fault) private pure {
        revert ILedgerImport.LedgerImportInvalidRecord(id, fault);
    }
}
