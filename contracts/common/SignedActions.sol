// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ISignedActions} from "../interfaces/ISignedActions.sol";

/// @title SignedActions
/// @notice Verifies relayed participant acts: deadline, signature (ECDSA or ERC-1271) and a
/// single-use unordered nonce. ECDSA signatures with a high `s` (malleable twins) are refused by
/// OpenZeppelin's ECDSA, so one act has one valid signature per key.
abstract contract SignedActions is ISignedActions, EIP712 {
    /// @dev Bit `nonce & 255` of word `nonce >> 8` is set once the nonce is used. Consecutive nonces
    /// share a word, so a signer's acts mostly update one warm-able slot instead of writing new ones.
    mapping(address signer => mapping(uint256 wordPos => uint256 bitmap)) private _nonceBitmaps;

    /// @inheritdoc ISignedActions
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonceBitmaps[signer][nonce >> 8] & (uint256(1) << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc ISignedActions
    function nonceBitmap(address signer, uint256 wordPos) external view returns (uint256) {
        return _nonceBitmaps[signer][wordPos];
    }

    /// @inheritdoc ISignedActions
    function invalidateNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
        emit NonceInvalidated(msg.sender, nonce);
    }

    /// @dev Checks the deadline and `signer`'s signature over `structHash` (built with
    /// `auth.nonce` and `auth.deadline`), then consumes the nonce.
    function _verifySigned(address signer, bytes32 structHash, Authorization calldata auth) internal {
        if (block.timestamp > auth.deadline) revert SignedActionExpired(auth.deadline, block.timestamp);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), auth.signature)) {
            revert SignedActionInvalidSignature(signer);
        }
        _useNonce(signer, auth.nonce);
    }

    function _useNonce(address signer, uint256 nonce) private {
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 flipped = _nonceBitmaps[signer][nonce >> 8] ^= bit;
        if (flipped & bit == 0) revert SignedActionNonceUsed(signer, nonce);
    }
}
