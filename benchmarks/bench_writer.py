"""The single writer's CPU per document on a grown corpus, with SQLite's page cache and
savepoint journals as policylens sets them against SQLite's defaults.

    python benchmarks/bench_writer.py [--base 10000] [--n 1500] [--rounds 2]

Builds a corpus of ``--base`` generated documents (bench_scale's generator: real paragraphs
recombined, 10-30 KB), then for each variant copies it and stores ``--n`` more documents
through ``Corpus.add`` in one batch, in this process, with their fingerprints computed
beforehand (what the extraction workers hand the writer). Prints the writer's CPU ms per
document, variants interleaved ``--rounds`` times:

* ``policylens``: the connection as ``Corpus`` opens it (64 MB cache, temp_store MEMORY);
* ``sqlite defaults``: the same with SQLite's 2 MB cache and savepoint journals in files.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_scale import REPO, generate, load_paragraphs  # noqa: E402

from policylens.corpus.dedupe import fingerprint  # noqa: E402
from policylens.corpus.extract.model import Extraction  # noqa: E402
from policylens.corpus.records import DocumentMeta  # noqa: E402
from policylens.corpus.store import Corpus  # noqa: E402

VARIANTS = {"policylens": [], "sqlite defaults": ["PRAGMA cache_size = -2000", "PRAGMA temp_store = DEFAULT"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=10000)
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    docs = generate(args.base + args.n, load_paragraphs(args.shared))
    extraction = lambda text: Extraction(text=text, method="text", fingerprint=fingerprint(text))  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base" / "corpus.sqlite"
        with Corpus(base) as corpus, corpus.batch():
            for name, text, _, _ in itertools.islice(docs, args.base):
                corpus.add(text.encode(), DocumentMeta(source=name), extraction(text))
        more = [(name, text, extraction(text)) for name, text, _, _ in docs]
        print(f"corpus of {args.base:,} documents; {len(more):,} more stored by each variant")
        for round_ in range(args.rounds):
            for label, pragmas in VARIANTS.items():
                work = Path(tmp) / "work"
                shutil.copytree(base.parent, work)
                with Corpus(work / "corpus.sqlite") as corpus:
                    for pragma in pragmas:
                        corpus.conn.execute(pragma)
                    start = time.process_time()
                    with corpus.batch():
                        for name, text, ex in more:
                            corpus.add(text.encode(), DocumentMeta(source=name), ex)
                    cpu = time.process_time() - start
                shutil.rmtree(work)
                print(f"  round {round_ + 1}, {label}: writer CPU {cpu / len(more) * 1000:.2f} ms "
                      "per document", flush=True)


if __name__ == "__main__":
    main()
