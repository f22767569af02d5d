"""The baseline of ``scripts/bench api``: a bare FastAPI endpoint returning a record-sized JSON document, served
by uvicorn with the same options as the node. Usage: python scripts/bare_api.py PORT"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()
DOC = {"id": "0x" + "ab" * 32, "kind": "resource", "grade": "general", "source": "public",
       "rights": ["holding", "processing"], "status": "active", "owner": 1, "registrar": "SDE", "block": 14,
       "content_hash": "0x" + "cd" * 32, "metadata_hash": "0x" + "ef" * 32, "supersedes": None, "delegated": False,
       "parents": [], "seq": 0, "leaf_index": 0, "batched": False}


@app.get("/record/{record_id}")
async def record(record_id: str) -> dict[str, object]:
    return {**DOC, "id": record_id}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
