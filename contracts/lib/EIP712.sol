// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title EIP-712 domain and strict signature recovery shared by Federation, Registry and CrossBorder
/// @dev EIP-712 (https://eips.ethereum.org/EIPS/eip-712): every contract signs under
/// `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)` with its own name and
/// version "1", so a signature binds one chain and one contract. Internal functions only: they are inlined into
/// each contract, which costs no call and keeps each contract's own named errors for each refusal.
library EIP712 {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    /// @dev secp256k1n / 2: signatures with a larger s are the malleable twin of a valid one (EIP-2).
    uint256 internal constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @dev Why `tryRecover` refused a signature (None: it recovered, possibly to address(0)).
    enum Failure {
        None,
        Length,
        HighS,
        BadV
    }

    /// @dev The domain separator of the calling contract on the current chain.
    function domainSeparator(bytes32 nameHash) internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, nameHash, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev keccak256(0x1901 || domainSeparator || hashStruct(message)).
    function digest(bytes32 separator, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", separator, structHash));
    }

    /// @dev Only 65-byte (r, s, v) signatures with low s and v in {27, 28}: every valid signature has exactly one
    /// accepted encoding. ecrecover yields address(0) for a signature with no key; callers compare the signer with
    /// a non-zero expected address, or refuse zero.
    function tryRecover(bytes32 hash, bytes calldata signature) internal pure returns (address, Failure) {
        if (signature.length != 65) return (address(0), Failure.Length);
        bytes32 r;
        bytes32 s;
        uint8 v;
        // The r, s, v split of a 65-byte signature in calldata, after the length check above: three reads inside
        // it, without the bounds checks of three slices (a batch of onboardings verifies 150 signatures).
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 32))
            v := byte(0, calldataload(add(signature.offset, 64)))
        }
        return _tryRecover(hash, r, s, v);
    }

    /// @dev `tryRecover` for a signature held in memory (one decoded from a proposal's payload).
    function tryRecoverMemory(bytes32 hash, bytes memory signature) internal pure returns (address, Failure) {
        if (signature.length != 65) return (address(0), Failure.Length);
        bytes32 r;
        bytes32 s;
        uint8 v;
        // The usual r, s, v split of a 65-byte signature in memory, after the length check above.
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            r := mload(add(signature, 32))
            s := mload(add(signature, 64))
            v := byte(0, mload(add(signature, 96)))
        }
        return _tryRecover(hash, r, s, v);
    }

    function _tryRecover(bytes32 hash, bytes32 r, bytes32 s, uint8 v) private pure returns (address, Failure) {
        if (uint256(s) > HALF_CURVE_ORDER) return (address(0), Failure.HighS);
        if (v != 27 && v != 28) return (address(0), Failure.BadV);
        return (ecrecover(hash, v, r, s), Failure.None);
    }
}
