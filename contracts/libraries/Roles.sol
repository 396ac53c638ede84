// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Ledger roles
/// @notice Bits of the registry's role mask, and the AccessControl roles of the service's keys.
library Roles {
    uint8 internal constant SUPPLIER = 1;
    uint8 internal constant BUYER = 2;
    uint8 internal constant FINANCIER = 4;
    uint8 internal constant AUDITOR = 8;
    uint8 internal constant ALL = SUPPLIER | BUYER | FINANCIER | AUDITOR;

    /// @dev Registers members and edits their profile.
    bytes32 internal constant ONBOARDING_OPERATOR = keccak256("ONBOARDING_OPERATOR");
    /// @dev Renews KYC, suspends and reinstates members.
    bytes32 internal constant COMPLIANCE_OFFICER = keccak256("COMPLIANCE_OFFICER");
    /// @dev Mints the settlement token and redeems (burns) balances its holders consent to.
    bytes32 internal constant ISSUER = keccak256("ISSUER");
    /// @dev Burns a holder's balance without its consent (a court order, a sanctions seizure).
    bytes32 internal constant ENFORCER = keccak256("ENFORCER");
    /// @dev Signs invoice attestations: the invoice was normalised and checked (tax ids are the
    /// parties' registered entity ids; in production, verified against the tax authority).
    bytes32 internal constant INVOICE_ATTESTER = keccak256("INVOICE_ATTESTER");
    /// @dev Pauses and unpauses the settlement token.
    bytes32 internal constant PAUSER = keccak256("PAUSER");
    /// @dev Copies a version-1 ledger's state into a new deployment, once (ILedgerImport). Granted
    /// only at construction; meaningless once the import is sealed.
    bytes32 internal constant LEDGER_MIGRATOR = keccak256("LEDGER_MIGRATOR");
}
