"""``demo`` and ``devnet``: development tools; provenance.dev is imported only inside these handlers."""

from __future__ import annotations

import argparse
import os
from typing import Any

from provenance.cli.common import passphrase_source
from provenance.cli.render import render_lineage


def cmd_demo(args: argparse.Namespace) -> Any:
    # getattr: the option is declared with the demo's parser in cli/main.py; without it this is the small demo.
    if getattr(args, "scale", None) == "seed":
        return _demo_scale(args)
    from provenance.dev.demo import run_demo

    summary = run_demo(args.data_dir, passphrase_source(args), scrypt_n=args.scrypt_n,
                       say=(lambda _m: None) if args.json else print)
    if args.json:
        return summary
    names = {rid: f"{summary['titles'][name]['zh']} / {summary['titles'][name]['en']}"
             for name, rid in summary["records"].items()}
    fed = summary["federation"]
    print(f"\nFederation (threshold {fed['threshold']}): " + "; ".join(fed["exchanges"]))
    print(f"Entities: {summary['counts']['entities']}, registrations: {summary['counts']['registrations']}")
    for m in summary["merchants"].values():
        print(f"  entity {m['id']}: {m['name']['zh']} ({m['name']['en']}), {m['exchange']}, {m['creditCode']}")
    for name, lineage in summary["lineage"].items():
        print(f"\nLineage of {name}:")
        for line in render_lineage(lineage, names):
            print("  " + line)
        if lineage["inactive_ancestors"]:
            print(f"  ! {len(lineage['inactive_ancestors'])} ancestor(s) not active: this product is affected")
    print(f"\nData directory: {summary['data_dir']}. Try: scripts/run show {summary['records']['port-energy-model']}")
    return None


def _demo_scale(args: argparse.Namespace) -> Any:
    """The seed's scale (the data directory `scripts/bench scale` measures), built once; a second run prints
    the build's figures again."""
    from provenance.dev.scale import ScaleSpec, build

    say = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    figures = build(args.data_dir, passphrase_source(args), ScaleSpec(), scrypt_n=args.scrypt_n, say=say)
    if args.json:
        return figures
    print(f"\nData directory: {args.data_dir} ({figures['spec']['entities']} entities, "
          f"{figures['spec']['resources'] + figures['spec']['products'] + figures['spec']['assets']} records). "
          f"Serve it: provenance --data-dir {args.data_dir} serve")
    return None


def _devnet(args: argparse.Namespace) -> Any:
    from provenance.dev.devnet import Devnet

    return Devnet(args.dir, base_port=args.base_port, chain_port=args.chain_port, chain=args.chain,
                  passphrase=os.environ.get("PROVENANCE_PASSPHRASE") or "devnet")


def cmd_devnet_up(args: argparse.Namespace) -> Any:
    net = _devnet(args)
    net.up(say=(lambda _m: None) if args.json else (lambda m: print(m, flush=True)))
    return net.status()


def cmd_devnet_down(args: argparse.Namespace) -> Any:
    _devnet(args).down(say=(lambda _m: None) if args.json else print)
    return None


def cmd_devnet_status(args: argparse.Namespace) -> Any:
    return _devnet(args).status()
