"""Are a CPT checkpoint's native-word embeddings near their English translations?

The diagnostic of docs/demo_tuning.md (the code and what each number means:
bridgelab/synth/alignment.py). One JSON line per row: lexicon words, subject names, and the
value-set structure in each language. Run it on a bridge run and its no-bridge twin:

    python scripts/embedding_alignment.py runs/demo/world \
        runs/demo/cpt/runs/ko-bridge-s0/hf/step_000200 runs/demo/tokenizer ko
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bridgelab.calibrate.alignment import embedding_report
from bridgelab.errors import BridgelabError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("world", type=Path, help="synthetic world folder (world.json)")
    parser.add_argument("checkpoint", type=Path, help="HF checkpoint folder")
    parser.add_argument("tokenizer", type=Path, help="tokenizer folder")
    parser.add_argument("lang", help="target language (ko, zh, bo, mn)")
    args = parser.parse_args()
    try:
        rows = embedding_report(args.world, args.checkpoint, args.tokenizer, args.lang)
    except BridgelabError as exc:
        print(f"embedding_alignment: error: {exc}", file=sys.stderr)
        return 2
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
