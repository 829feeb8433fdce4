"""One-off parity check: triage verdicts (relevant, score, terms) vs plain `finditer` on a dump.

The reference is the matcher triage used before the Aho-Corasick guide: every match of the
combined regex over the lower-cased text. Prints the number of differing verdicts (want 0).

    python benchmarks/check_triage_parity.py [corpus.jsonl.gz]
"""
from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from corpus import triage  # noqa: E402


def reference(title: str, text: str) -> triage.Verdict:
    pattern, weights = triage._combined()

    def counts(s: str) -> dict:
        out: dict = {}
        for m in pattern.finditer(s.lower()):
            i = int(m.lastgroup[1:])
            n, first = out.get(i, (0, m.group(0)))
            out[i] = (n + 1, first)
        return out

    body, head = counts(text[:triage.TEXT_WINDOW]), counts(title)
    score, found = 0, []
    for i in sorted(set(body) | set(head)):
        n = min(body.get(i, (0, ""))[0] + 2 * head.get(i, (0, ""))[0], triage.MAX_COUNT)
        score += weights[i] * n
        found.append((head.get(i) or body.get(i))[1])
    return triage.Verdict(score >= triage.THRESHOLD, score, tuple(found))


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else ROOT.parent / "shared" / "corpus" / "baomoi-2017.jsonl.gz"
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        arts = [(o.get("id"), o.get("title") or "", o.get("text") or "") for o in map(json.loads, fh)]
    t0 = time.perf_counter()
    new = [triage.judge(t, x) for _, t, x in arts]
    t1 = time.perf_counter()
    old = [reference(t, x) for _, t, x in arts]
    t2 = time.perf_counter()
    diff = [(a[0], o, n) for a, o, n in zip(arts, old, new) if o != n]
    print(json.dumps({"articles": len(arts), "differences": len(diff), "relevant": sum(v.relevant for v in new),
                      "new_articles_per_s": round(len(arts) / (t1 - t0)),
                      "reference_articles_per_s": round(len(arts) / (t2 - t1))}))
    for d in diff[:20]:
        print(d)
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
