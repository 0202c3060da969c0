"""Regenerate the demo data bundled in ``src/spanqa/demo_data`` from ``../shared/data``.

The demo trains on the first 2,000 questions (file order) of SQuADShifts new_wiki (CC BY 4.0) and
evaluates on XQuAD English (CC BY-SA 4.0). Both are copied unchanged apart from the selection; the licence
notice travels with them in ``demo_data/NOTICE.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "spanqa" / "demo_data"


def first_questions(squad: dict, limit: int) -> dict:
    """The first ``limit`` questions of a SQuAD file in file order, keeping the nesting."""
    kept, articles = 0, []
    for article in squad["data"]:
        paragraphs = []
        for paragraph in article["paragraphs"]:
            qas = paragraph["qas"][: max(0, limit - kept)]
            kept += len(qas)
            if qas:
                paragraphs.append({"context": paragraph["context"], "qas": qas})
        if paragraphs:
            articles.append({"title": article.get("title", ""), "paragraphs": paragraphs})
        if kept >= limit:
            break
    return {"version": squad.get("version", "1.1"), "data": articles}


def main() -> int:
    train = first_questions(json.loads((SHARED / "squadshifts-new_wiki-v1.0.json").read_text()), 2000)
    (OUT / "new_wiki_train_2000.json").write_text(json.dumps(train, ensure_ascii=False))
    dev = json.loads((SHARED / "xquad.en.json").read_text())
    (OUT / "xquad_en_dev.json").write_text(json.dumps(dev, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
