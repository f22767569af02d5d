"""The LevelDB lineage index: a pure key layout (keys.py) and its plyvel adapter (index.py)."""
