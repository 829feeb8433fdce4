"""Where a capitalised word inside a dump "sentence" starts a new one.

The dump has no line breaks, so a heading or photo credit runs straight into the
next sentence ("... kém hiệu quả Sau khi nghe báo cáo"). Vietnamese capitalises
names, so a capital mid-sentence is usually a name; but a word pair that the
archive writes in lower case mid-sentence and capitalised only after a full stop
("Sau khi", "Đây là") marks a sentence start. Those pairs are counted from the
2017 dump (evaluation documents left out) by `python -m nlp.sentence_starts DUMP`
into ``nlp/data/sentence_starts.tsv``.
"""
from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

from corpus.lexicons import table

DATA_FILE = "sentence_starts.tsv"
MIN_STARTS = 8        # seen capitalised after a full stop at least this often
MAX_CAPITAL_MID = 0.03  # and capitalised at most this share of its mid-sentence uses
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _pairs(line: str):
    """(pair, position) for each word pair, position 'start' after ., ! ? : or line start,
    'cap' / 'low' for a capitalised / lower-case pair inside a sentence."""
    toks = line.split()
    for i in range(len(toks) - 1):
        a, b = toks[i], toks[i + 1]
        if not (_WORD.fullmatch(a) and _WORD.fullmatch(b.rstrip(",.;:!?"))):
            continue
        pair = f"{a.lower()} {b.rstrip(',.;:!?').lower()}"
        prev = toks[i - 1] if i else ""
        if not prev or prev[-1] in ".!?:…":
            if a[0].isupper():
                yield pair, "start"
        elif prev[-1].isalnum():
            yield pair, "cap" if a[0].isupper() else "low"


def count(lines) -> dict[str, Counter]:
    stats: dict[str, Counter] = {}
    for line in lines:
        for pair, pos in _pairs(line):
            stats.setdefault(pair, Counter())[pos] += 1
    return stats


def select(stats: dict[str, Counter]) -> list[tuple[str, int, int, int]]:
    out = []
    for pair, c in stats.items():
        mid = c["cap"] + c["low"]
        if c["start"] >= MIN_STARTS and mid and c["cap"] / mid <= MAX_CAPITAL_MID and c["low"] >= 3 * MIN_STARTS:
            out.append((pair, c["start"], c["low"], c["cap"]))
    return sorted(out, key=lambda r: (-r[1], r[0]))


NAME_HEADS = "name_heads.tsv"


@lru_cache(maxsize=1)
def name_heads() -> frozenset[str]:
    return frozenset(row[0].lower() for row in table("nlp", NAME_HEADS))


@lru_cache(maxsize=1)
def starting_pairs() -> frozenset[str]:
    return frozenset(row[0] for row in table("nlp", DATA_FILE))


def glued_starts(text: str, a: int, b: int) -> list[int]:
    """Offsets in text[a:b] where a capitalised pair from the lexicon follows a word without
    punctuation: a sentence glued to a heading or caption before it."""
    pairs, heads = starting_pairs(), name_heads()
    out = []
    for m in re.finditer(r"(?<=[^\W\d_]) ([^\W\d_]+) ([^\W\d_]+)", text[a:b]):
        first = m.group(1)
        if not (first[0].isupper() and not first.isupper() and f"{first.lower()} {m.group(2).lower()}" in pairs):
            continue
        before = text[a:a + m.start()].split()[-2:]
        if before and (before[-1].lower() in heads or " ".join(before).lower() in heads):
            continue  # "Luật Hỗ trợ doanh nghiệp": a name after its type word
        out.append(a + m.start() + 1)
    return out


def main(argv: list[str]) -> int:
    dump, *excluded_files = argv
    excluded = set()
    for name in excluded_files:
        excluded |= {x.strip() for x in Path(name).read_text(encoding="utf-8").splitlines()
                     if x.strip() and not x.startswith("#")}

    def lines():
        with gzip.open(dump, "rt", encoding="utf-8") as f:
            for raw in f:
                rec = json.loads(raw)
                if str(rec.get("id")) not in excluded:
                    yield from rec.get("text", "").split("\n")

    rows = select(count(lines()))
    print("# Word pairs that start a sentence: capitalised after a full stop, written in lower case")
    print("# inside sentences (capitalised there at most 3 %). Counted from the 2017 dump without")
    print("# the evaluation and training documents by `python -m nlp.sentence_starts`.")
    print("# pair\tafter a full stop\tlower-case mid-sentence\tcapitalised mid-sentence")
    for row in rows:
        print("\t".join(map(str, row)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
