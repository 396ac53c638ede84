// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {LedgerImport} from "../common/LedgerImport.sol";
import {IRegistryImport} from "../interfaces/ILedgerImport.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title ParticipantRegistry
/// @notice Membership, roles and KYC validity of every ledger participant. Onboarding a member is
/// one registry write (two storage slots), not a contract per member.
/// Invariant: `isVerified` is true only for an active member holding the roles whose KYC expiry
/// lies in the future.
contract ParticipantRegistry is IParticipantRegistry, IRegistryImport, AccessControlDefaultAdminRules, LedgerImport {
    /// @dev Slot 0: roles (8) | status (8) | kycExpiry (48) | jurisdiction (16); slot 1: entityIdHash.
    mapping(address account => Member) private _members;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants the operator and officer roles).
    /// @param adminDelay Seconds a new admin waits before accepting the role (two-step transfer).
    /// @param onboardingOperator The service key that registers members.
    /// @param complianceOfficer The service key that renews KYC, suspends and reinstates.
    /// @param migrator The key that imports a version-1 ledger until the seal, or zero for none
    /// (the import is then sealed from the start).
    constructor(
        address admin,
        uint48 adminDelay,
        address onboardingOperator,
        address complianceOfficer,
        address migrator
    ) AccessControlDefaultAdminRules(adminDelay, admin) LedgerImport(migrator) {
        _grantRole(Roles.ONBOARDING_OPERATOR, onboardingOperator);
        _grantRole(Roles.COMPLIANCE_OFFICER, complianceOfficer);
    }

    /// @inheritdoc IParticipantRegistry
    function register(
        address account,
        uint8 roles,
        uint48 kycExpiry,
        bytes2 jurisdiction,
        bytes32 entityIdHash
    ) external onlyRole(Roles.ONBOARDING_OPERATOR) {
        if (account == address(0)) revert RegistryInvalidAccount(account);
        if (_members[account].status != Status.None) revert RegistryMemberExists(account);
        _checkRoles(roles);
        _checkKycExpiry(kycExpiry);
        _checkProfile(jurisdiction, entityIdHash);
        _members[account] = Member({
            roles: roles,
            status: Status.Active,
            kycExpiry: kycExpiry,
            jurisdiction: jurisdiction,
            entityIdHash: entityIdHash
        });
        emit MemberRegistered(account, roles, kycExpiry, jurisdiction, entityIdHash);
    }

    /// @inheritdoc IParticipantRegistry
    function update(
        address account,
        uint8 roles,
        bytes2 jurisdiction,
        bytes32 entityIdHash
    ) external onlyRole(Roles.ONBOARDING_OPERATOR) {
        Member storage m = _existing(account);
        _checkRoles(roles);
        _checkProfile(jurisdiction, entityIdHash);
        m.roles = roles;
        m.jurisdiction = jurisdiction;
        m.entityIdHash = entityIdHash;
        emit MemberUpdated(account, roles, jurisdiction, entityIdHash);
    }

    /// @inheritdoc IParticipantRegistry
    function renewKyc(address account, uint48 kycExpiry) external onlyRole(Roles.COMPLIANCE_OFFICER) {
        Member storage m = _existing(account);
        _checkKycExpiry(kycExpiry);
        m.kycExpiry = kycExpiry;
        emit KycRenewed(account, kycExpiry);
    }

    /// @inheritdoc IParticipantRegistry
    function suspend(address account, bytes32 reasonCode) external onlyRole(Roles.COMPLIANCE_OFFICER) {
        Member storage m = _existing(account);
        if (m.status == Status.Suspended) revert RegistryAlreadySuspended(account);
        m.status = Status.Suspended;
        emit MemberSuspended(account, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function reinstate(address account) external onlyRole(Roles.COMPLIANCE_OFFICER) {
        Member storage m = _existing(account);
        if (m.status != Status.Suspended) revert RegistryNotSuspended(account);
        m.status = Status.Active;
        emit MemberReinstated(account);
    }

    /// @inheritdoc IRegistryImport
    function importMembers(ImportedMember[] calldata members) external {
        _requireImporting();
        uint256 n = members.length;
        for (uint256 i; i < n; ++i) {
            ImportedMember calldata m = members[i];
            address account = m.account;
            uint256 key = uint256(uint160(account));
            if (account == address(0)) _malformed(key, ImportFault.Id);
            if (_members[account].status != Status.None) revert LedgerImportDuplicate(key);
            if (m.status == 0 || m.status > uint8(Status.Suspended)) _malformed(key, ImportFault.Status);
            if (m.roles == 0 || m.roles & ~Roles.ALL != 0) _malformed(key, ImportFault.Roles);
            if (!_isJurisdiction(m.jurisdiction) || m.entityIdHash == bytes32(0)) _malformed(key, ImportFault.Profile);
            // The KYC expiry is taken as it was, past or future: a lapsed member stays unverified
            // until the compliance officer renews it.
            _members[account] = Member({
                roles: m.roles,
                status: Status(m.status),
                kycExpiry: m.kycExpiry,
                jurisdiction: m.jurisdiction,
                entityIdHash: m.entityIdHash
            });
            emit MemberImported(account, m.roles, m.status, m.kycExpiry, m.jurisdiction, m.entityIdHash);
        }
    }

    /// @inheritdoc IParticipantRegistry
    function isVerified(address account, uint8 roleMask) external view returns (bool) {
        Member storage m = _members[account];
        return roleMask != 0 && m.roles & roleMask == roleMask && _isActive(m);
    }

    /// @inheritdoc IParticipantRegistry
    function isActiveMember(address account) external view returns (bool) {
        return _isActive(_members[account]);
    }

    /// @inheritdoc IParticipantRegistry
    function areActiveMembers(address a, address b) external view returns (bool aActive, bool bActive) {
        return (_isActive(_members[a]), _isActive(_members[b]));
    }

    /// @inheritdoc IParticipantRegistry
    function member(address account) external view returns (Member memory) {
        return _members[account];
    }

    function _isActive(Member storage m) private view returns (bool) {
        return m.status == Status.Active && m.kycExpiry > block.timestamp;
    }

    function _existing(address account) private view returns (Member storage m) {
        m = _members[account];
        if (m.status == Status.None) revert RegistryUnknownMember(account);
    }

    function _checkRoles(uint8 roles) private pure {
        if (roles == 0 || roles & ~Roles.ALL != 0) revert RegistryInvalidRoles(roles);
    }

    function _checkKycExpiry(uint48 kycExpiry) private view {
        if (kycExpiry <= block.timestamp) revert RegistryInvalidKycExpiry(kycExpiry, uint48(block.timestamp));
    }

    function _checkProfile(bytes2 jurisdiction, bytes32 entityIdHash) private pure {
        if (!_isJurisdiction(jurisdiction)) revert RegistryInvalidJurisdiction(jurisdiction);
        if (entityIdHash == bytes32(0)) revert RegistryInvalidEntityId();
    }

    /// @dev Two ASCII capitals.
    function _isJurisdiction(bytes2 jurisdiction) private pure returns (bool) {
        bytes1 a = jurisdiction[0];
        bytes1 b = jurisdiction[1];
        return a >= 0x41 && a <= 0x5A && b >= 0x41 && b <= 0x5A;
    }

    function _malformed(uint256 id, ImportFault fault) private pure {
        revert LedgerImportInvalidRecord(id, fault);
    }
}
