"""Profile the per-document NLP analysis on relevant articles of the dump.

Picks the first N articles triage judges relevant (as ingest does: cleaned
text, metadata read), runs the ingest analyser on them in batches and reports
seconds per 100 documents, optionally under pyinstrument.

    python benchmarks/profile_extract.py [--docs 150] [--profile out.html] [--embed]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "baomoi-2017.jsonl.gz"


def relevant_records(corpus: Path, limit: int) -> list:
    """The first `limit` relevant articles as ingest would hand them to the analyser."""
    from corpus.ingest import prepare
    from corpus.reader import RawDocument
    from corpus.triage import judge

    out = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            raw = RawDocument(doc_id=str(obj.get("id")), text=obj.get("text") or "", source=str(corpus),
                              title=obj.get("title"))
            record = prepare(raw, "profile")
            if judge(record.title, record.text).relevant:
                out.append(record)
                if len(out) >= limit:
                    break
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--docs", type=int, default=150)
    p.add_argument("--embed", action="store_true", help="embed findings too, as the default ingest does")
    p.add_argument("--profile", help="write a pyinstrument HTML profile here (text summary on stderr)")
    args = p.parse_args(argv)

    from parlens.service import make_analyser

    records = relevant_records(Path(args.corpus), args.docs)
    analyse, _ = make_analyser(embed=args.embed)
    analyse(records[:1])  # load models and lexicons outside the measurement
    profiler = None
    if args.profile:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.002)
        profiler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    findings = 0
    for i in range(0, len(records), 8):
        findings += sum(len(a.findings) for a in analyse(records[i:i + 8]))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if profiler is not None:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_html(), encoding="utf-8")
        print(profiler.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)
    print(json.dumps({"docs": len(records), "findings": findings, "embed": args.embed,
                      "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                      "seconds_per_100_docs": round(100 * seconds / len(records), 2),
                      "cpu_seconds_per_100_docs": round(100 * cpu / len(records), 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
