// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Participant registry of the supply-chain finance ledger
/// @notice Who may act on the ledger, in which roles, and until when their KYC holds.
/// A member is "verified" in a role when it is active, holds that role and its KYC has not
/// expired. Every other ledger contract asks this registry before it lets a party act.
/// @dev Roles are a bit mask so one member can hold several (a tier-1 supplier is also a buyer of
/// its own tier-2 suppliers). Administration is split: the onboarding operator registers members
/// and edits their profile; the compliance officer renews KYC, suspends and reinstates.
interface IParticipantRegistry {
    /// @notice Lifecycle of a membership. `None` means never registered.
    enum Status {
        None,
        Active,
        Suspended
    }

    /// @notice A member's record, packed into two storage slots.
    /// @param roles Bit mask of ROLE_* constants.
    /// @param status Active or suspended.
    /// @param kycExpiry Unix time after which the member is no longer verified.
    /// @param jurisdiction ISO 3166-1 alpha-2 country code, ASCII upper case (for example "CN").
    /// @param entityIdHash Hash of the legal entity id (LEI or unified social credit code).
    struct Member {
        uint8 roles;
        Status status;
        uint48 kycExpiry;
        bytes2 jurisdiction;
        bytes32 entityIdHash;
    }

    /// @notice Thrown when registering an account that is already a member.
    error RegistryMemberExists(address account);
    /// @notice Thrown when acting on an account that was never registered.
    error RegistryUnknownMember(address account);
    /// @notice Thrown for the zero address as a member.
    error RegistryInvalidAccount(address account);
    /// @notice Thrown when the role mask is empty or has bits outside the defined roles.
    error RegistryInvalidRoles(uint8 roles);
    /// @notice Thrown when the KYC expiry is not in the future.
    error RegistryInvalidKycExpiry(uint48 kycExpiry, uint48 nowTime);
    /// @notice Thrown when the jurisdiction is not two ASCII upper-case letters.
    error RegistryInvalidJurisdiction(bytes2 jurisdiction);
    /// @notice Thrown when the entity id hash is zero.
    error RegistryInvalidEntityId();
    /// @notice Thrown when suspending a member that is already suspended.
    error RegistryAlreadySuspended(address account);
    /// @notice Thrown when reinstating a member that is not suspended.
    error RegistryNotSuspended(address account);

    /// @notice Emitted when a member is registered.
    /// @param account The member's address.
    /// @param roles Role bit mask.
    /// @param kycExpiry KYC expiry (unix seconds).
    /// @param jurisdiction ISO 3166-1 alpha-2 code.
    /// @param entityIdHash Hash of the legal entity id.
    event MemberRegistered(
        address indexed account,
        uint8 roles,
        uint48 kycExpiry,
        bytes2 jurisdiction,
        bytes32 indexed entityIdHash
    );
    /// @notice Emitted when the onboarding operator changes a member's roles, jurisdiction or entity id.
    /// @param account The member's address.
    /// @param roles New role bit mask.
    /// @param jurisdiction New jurisdiction.
    /// @param entityIdHash New entity id hash.
    event MemberUpdated(address indexed account, uint8 roles, bytes2 jurisdiction, bytes32 entityIdHash);
    /// @notice Emitted when the compliance officer renews (or shortens) a member's KYC.
    /// @param account The member's address.
    /// @param kycExpiry New KYC expiry.
    event KycRenewed(address indexed account, uint48 kycExpiry);
    /// @notice Emitted when a member is suspended.
    /// @param account The member's address.
    /// @param reasonCode Compliance reason code (the service keeps the text).
    event MemberSuspended(address indexed account, bytes32 indexed reasonCode);
    /// @notice Emitted when a suspended member is reinstated.
    /// @param account The member's address.
    event MemberReinstated(address indexed account);

    /// @notice Registers a new member. Onboarding operator only.
    function register(
        address account,
        uint8 roles,
        uint48 kycExpiry,
        bytes2 jurisdiction,
        bytes32 entityIdHash
    ) external;

    /// @notice Changes a member's roles, jurisdiction and entity id hash. Onboarding operator only.
    function update(address account, uint8 roles, bytes2 jurisdiction, bytes32 entityIdHash) external;

    /// @notice Sets a member's KYC expiry. Compliance officer only.
    function renewKyc(address account, uint48 kycExpiry) external;

    /// @notice Suspends a member; it stops being verified in every role. Compliance officer only.
    function suspend(address account, bytes32 reasonCode) external;

    /// @notice Reinstates a suspended member. Compliance officer only.
    function reinstate(address account) external;

    /// @notice True when `account` is active, holds every role in `roleMask` and its KYC is valid.
    function isVerified(address account, uint8 roleMask) external view returns (bool);

    /// @notice True when `account` is active with valid KYC, whatever its roles.
    function isActiveMember(address account) external view returns (bool);

    /// @notice `isActiveMember` of both parties of a transfer in one call (the settlement token asks
    /// on every transfer, so one call instead of two saves an external call each time).
    function areActiveMembers(address a, address b) external view returns (bool aActive, bool bActive);

    /// @notice The member record of `account` (all zero when unknown).
    function member(address account) external view returns (Member memory);
}
