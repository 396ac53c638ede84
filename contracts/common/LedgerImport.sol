// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ILedgerImport} from "../interfaces/ILedgerImport.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title LedgerImport
/// @notice The import window of a contract that carries over a version-1 ledger's state: open from
/// construction for the migrator named there, closed for good by `sealImport`. Without a migrator
/// the window is closed from the start, so the admin granting LEDGER_MIGRATOR later opens nothing.
/// @dev Built on AccessControlDefaultAdminRules, which every ledger contract uses: the deriving
/// contract calls that constructor itself.
abstract contract LedgerImport is ILedgerImport, AccessControlDefaultAdminRules {
    bool private _importSealed;

    /// @param migrator The key allowed to import until the seal, or zero for no import window.
    constructor(address migrator) {
        if (migrator == address(0)) {
            _importSealed = true;
            emit ImportSealed(address(0));
        } else {
            _grantRole(Roles.LEDGER_MIGRATOR, migrator);
        }
    }

    /// @inheritdoc ILedgerImport
    function sealImport() external {
        _requireImportOpen();
        if (!hasRole(Roles.LEDGER_MIGRATOR, msg.sender)) _checkRole(DEFAULT_ADMIN_ROLE);
        _importSealed = true;
        emit ImportSealed(msg.sender);
    }

    /// @inheritdoc ILedgerImport
    function importSealed() external view returns (bool) {
        return _importSealed;
    }

    /// @dev Every import function starts here: the window is open and the caller is the migrator.
    function _requireImporting() internal view {
        _requireImportOpen();
        _checkRole(Roles.LEDGER_MIGRATOR);
    }

    function _requireImportOpen() private view {
        if (_importSealed) revert LedgerImportSealed();
    }
}
