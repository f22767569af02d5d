"""Development tools, apart from the runtime: demo seeding, a local devnet of exchange nodes, the HTTP load
generator and synthetic index data. They may use every layer of the node; nothing in the node imports them but the
CLI's ``demo``, ``devnet`` and ``serve --demo`` handlers, and those only when run."""
