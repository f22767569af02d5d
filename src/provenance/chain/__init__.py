"""The chain adapter: one interface over the embedded chain (eth-tester + py-evm) and JSON-RPC endpoints."""
