// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title SignedActions
/// @notice Lets a participant authorise an act with an EIP-712 signature that anyone may relay.
/// Each typed struct names its signer and carries the signer's next nonce and a deadline, and the
/// domain separator binds the chain id and this contract's address, so a signature works once, on
/// one chain, on one contract, for one signer. Contract wallets (ERC-1271) sign too; ECDSA
/// signatures with a high `s` (malleable twins) are refused by OpenZeppelin's ECDSA.
abstract contract SignedActions is EIP712, Nonces {
    /// @notice Thrown when a signed act is relayed after its deadline.
    /// @param deadline The deadline in the signed message.
    /// @param nowTime The block time.
    error SignedActionExpired(uint256 deadline, uint256 nowTime);
    /// @notice Thrown when the signature is not a valid signature of `signer` over the typed act.
    /// @param signer The participant the act is attributed to.
    error SignedActionInvalidSignature(address signer);

    /// @dev Consumes `signer`'s nonce and checks the signature over `structHash`, which the caller
    /// built with `nonce` as the next nonce of `signer`.
    function _verifySigned(
        address signer,
        bytes32 structHash,
        uint256 deadline,
        bytes calldata signature
    ) internal view {
        if (block.timestamp > deadline) revert SignedActionExpired(deadline, block.timestamp);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert SignedActionInvalidSignature(signer);
        }
    }

    /// @notice Burns the caller's next nonce, voiding any signature it gave out with that nonce.
    function useNonce() external returns (uint256) {
        return _useNonce(msg.sender);
    }
}
