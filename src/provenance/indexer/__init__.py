"""The follower: chain events into the LevelDB index, crash-safe and reorg-safe."""
