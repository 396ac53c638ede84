// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Participant acts authorised by EIP-712 signatures
/// @notice Every participant act can be sent directly or relayed by anyone (the service) with the
/// participant's typed-data signature. Nonces are unordered (a bitmap per signer, as in Uniswap's
/// Permit2): each nonce value works once, in any order, so a participant can sign many acts at once
/// and the relayer may land them in any order. A signature is bound to its signer (a field of every
/// typed struct), this contract and this chain (the EIP-712 domain), a nonce and a deadline.
interface ISignedActions {
    /// @notice What a relayed act carries besides its own fields.
    /// @param nonce Any value the signer has not used before on this contract.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature ECDSA (65 bytes) or ERC-1271 signature over the typed act.
    struct Authorization {
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice Thrown when a signed act is relayed after its deadline.
    /// @param deadline The deadline in the signed message.
    /// @param nowTime The block time.
    error SignedActionExpired(uint256 deadline, uint256 nowTime);
    /// @notice Thrown when the signature is not a valid signature of `signer` over the typed act.
    /// @param signer The participant the act is attributed to.
    error SignedActionInvalidSignature(address signer);
    /// @notice Thrown when the nonce was used (or invalidated) before.
    /// @param signer The participant.
    /// @param nonce The nonce.
    error SignedActionNonceUsed(address signer, uint256 nonce);

    /// @notice Emitted when a signer voids a nonce without using it.
    /// @param signer The participant.
    /// @param nonce The voided nonce.
    event NonceInvalidated(address indexed signer, uint256 nonce);

    /// @notice True when `nonce` of `signer` has been used or invalidated.
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice The bitmap of nonces `wordPos * 256` to `wordPos * 256 + 255` of `signer`.
    function nonceBitmap(address signer, uint256 wordPos) external view returns (uint256);

    /// @notice Voids the caller's `nonce`, so a signature given out with it can never be relayed.
    function invalidateNonce(uint256 nonce) external;
}
