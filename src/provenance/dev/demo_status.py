"""The demo certificate and the status lists it names: both must resolve on the node the demo is served by.

The certificate's ``credentialStatus`` names its issuer's status lists under the node's public URL (see
provenance.config.public_url), which a start on another address or with another ``--public-url`` changes; and a
served list is trusted by a verifier without a snapshot only when its hash is anchored on-chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from eth_account.signers.local import LocalAccount

from provenance.core import status_list
from provenance.services.certificates import LISTED, Certifier
from provenance.services.node import Node


def names_lists_under(cert_path: Path, base: str) -> bool:
    """Whether the certificate kept at ``cert_path`` names every status list it has under ``base``."""
    try:
        doc = json.loads(cert_path.read_text("utf-8"))
    except (OSError, ValueError):  # none yet, or an unreadable one: it is issued (again)
        return False
    status = doc.get("credentialStatus") if isinstance(doc, dict) else None
    entries = status if isinstance(status, list) else [status]
    return all(isinstance(e, dict) and str(e.get("statusListCredential", "")).startswith(base + "/")
               for e in entries)


def issue_demo_certificate(certifier: Certifier, cert_path: Path, record: bytes, signer: LocalAccount, *,
                           title: str, say: Callable[[str], None]) -> None:
    """Issue the record's certificate to ``cert_path`` unless the one kept there names its lists under the
    certifier's public URL: one kept from a start on another address names lists nobody can fetch."""
    if names_lists_under(cert_path, certifier.public_url):
        return
    again = cert_path.exists()
    doc = certifier.issue(record, signer)
    tmp = cert_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(cert_path)
    say(f"{doc['issuer']['code']} {'re-issues' if again else 'issues'} a certificate for {title} and its lineage, "
        f"its status lists under {certifier.public_url}: {cert_path}")


def anchor_changed_lists(node: Node, codes: Iterable[str], say: Callable[[str], None]) -> None:
    """Anchor each exchange's status lists, by that exchange's own key, where one of them records a suspension or
    revocation and the chain holds no anchor of it: the demo sets statuses directly on the contract (a change made
    through the node re-anchors at once, see services.operations), and a list's id, which its hash covers,
    follows the public URL. Lists with no bit set are left to ``POST status-lists/anchor``."""
    certifier = node.certifier()
    for code in codes:
        lists = [certifier.current_status_list(code, purpose) for purpose in LISTED]
        if any(anchored is None and any(status_list.decode(doc["credentialSubject"]["encodedList"]))
               for doc, anchored in lists):
            certifier.anchor_status_lists(node.keystore.load(code))
            say(f"{code} anchors its status lists (revocation, suspension) on-chain")
