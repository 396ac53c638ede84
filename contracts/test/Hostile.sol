// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Test-only attackers: low-level calls and revert bubbling are their whole point.
// solhint-disable avoid-low-level-calls, no-inline-assembly

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title An ERC-20 that calls back into a callee during transferFrom, to test reentrancy. Test only.
/// @dev Set `callee` and `payload`; every transferFrom first calls callee with payload and records
/// whether the reentrant call succeeded, then moves the tokens as usual.
contract ReentrantToken is ERC20 {
    address public callee;
    bytes public payload;
    bool public lastReentrySucceeded;
    bytes public lastReentryError;
    uint256 public reentryAttempts;

    constructor() ERC20("Hostile", "HOST") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata payload_) external {
        callee = target_;
        payload = payload_;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (callee != address(0)) {
            address t = callee;
            callee = address(0);
            reentryAttempts += 1;
            (bool ok, bytes memory err) = t.call(payload);
            lastReentrySucceeded = ok;
            lastReentryError = err;
        }
        return super.transferFrom(from, to, value);
    }
}

/// @title An ERC-721 receiver that re-enters a callee when it receives a token. Test only.
contract ReentrantReceiver is IERC721Receiver {
    address public callee;
    bytes public payload;
    bool public lastReentrySucceeded;
    bytes public lastReentryError;
    uint256 public received;

    function arm(address target_, bytes calldata payload_) external {
        callee = target_;
        payload = payload_;
    }

    /// @dev Lets tests make this contract act (it can hold roles in the registry).
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        received += 1;
        if (callee != address(0)) {
            address t = callee;
            callee = address(0);
            (bool ok, bytes memory err) = t.call(payload);
            lastReentrySucceeded = ok;
            lastReentryError = err;
        }
        return IERC721Receiver.onERC721Received.selector;
    }
}

/// @title A minimal ERC-1271 wallet: a contract account (a corporate multisig stand-in) that
/// accepts a signature when `threshold` of its owners signed the hash. Test only.
contract MultisigWallet is IERC1271 {
    error NotOwner(address caller);

    mapping(address owner => bool) public isOwner;
    uint256 public immutable threshold;

    constructor(address[] memory owners, uint256 threshold_) {
        for (uint256 i; i < owners.length; ++i) isOwner[owners[i]] = true;
        threshold = threshold_;
    }

    /// @dev `signature` is the concatenation of `threshold` 65-byte ECDSA signatures by distinct
    /// owners in ascending address order.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != threshold * 65) return 0xffffffff;
        address last;
        for (uint256 i; i < threshold; ++i) {
            (address signer, ECDSA.RecoverError e, ) = ECDSA.tryRecover(hash, signature[i * 65:(i + 1) * 65]);
            if (e != ECDSA.RecoverError.NoError || !isOwner[signer] || signer <= last) return 0xffffffff;
            last = signer;
        }
        return IERC1271.isValidSignature.selector;
    }

    function execute(address to, bytes calldata data) external returns (bytes memory) {
        if (!isOwner[msg.sender]) revert NotOwner(msg.sender);
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
