// A local JSON-RPC chain for development and tests: Hardhat Network with Cancun rules (the contracts are
// compiled for cancun), a fixed chain id, automine. Start it with:
//   npx --prefix node hardhat --config node/hardhat.config.cjs node --hostname 127.0.0.1 --port 8545
// Its default accounts are funded test keys, public knowledge: never use them on a real chain.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
      mining: { auto: true },
      // Tests fund the node's own keys with hardhat_setBalance.
    },
  },
  paths: { root: __dirname, sources: "hardhat-sources-unused", cache: "/tmp/provenance-hardhat-cache" },
};
