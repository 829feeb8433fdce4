"""The `parlens` command line.

Exit status: 0 when everything asked for was done (every input stored or
unchanged), 1 when some inputs failed (the rest are stored), 2 for a usage
error or a store that cannot be opened, 130 when interrupted.
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from functools import partial
from pathlib import Path

from corpus import store
from corpus.records import ALIASES, KINDS, expand_kinds, theme_groups


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _db(args) -> Path:
    return Path(args.db) if args.db else store.default_db_path()


def _kind(text: str) -> str:
    """argparse type for --kind: every name must be a known kind (usage error otherwise)."""
    try:
        expand_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _year(text: str) -> int:
    """argparse type for --default-year: a four-digit year."""
    if not (text.isdigit() and len(text) == 4 and 1900 <= int(text) <= 2100):
        raise argparse.ArgumentTypeError(f"{text!r} is not a year (1900-2100)")
    return int(text)


def cmd_ingest(args) -> int:
    from corpus.ingest import ingest
    from parlens import service, summaries

    conn = store.connect(_db(args))
    embed = not args.no_embed
    try:
        warm = partial(service.warm_worker, embed, args.model) if args.workers > 1 or args.dask else None
        with service.executor(args.workers, args.dask, warm_up=warm) as (pool, in_flight):
            if pool is None:
                analyse, version = service.make_analyser(embed=embed, model=args.model)
            else:
                analyse, version = service.WorkerAnalyser(embed, args.model), service.pipeline_version()
            summary = ingest([Path(p) for p in args.paths], conn, analyse, version, progress=not args.quiet,
                             batch_size=args.batch_size, triage=not args.all, pool=pool, in_flight=in_flight,
                             default_year=args.default_year)
        if embed and (summary.added or summary.replaced):
            service.build_index(conn, service.encoder(args.model).name, db_path=_db(args), save=True)
            for kind in () if args.no_themes else theme_groups():
                service.rebuild_themes(conn, kind)
        if summary.added or summary.replaced:
            summaries.rebuild_unit_summaries(conn)
    except service.DaskError as exc:
        raise CliError(str(exc)) from None
    finally:
        conn.close()
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for err in summary.errors:
        print(f"error: {err}", file=sys.stderr)
    print(summary.describe())
    print(f"store: {_db(args)}")
    return summary.exit_code


def cmd_index(args) -> int:
    """Embed every finding stored without a vector (after ingest --no-embed, or a model change)."""
    from parlens import service

    with closing(store.connect(_db(args), create=False)) as conn:
        n = service.embed_missing(conn, args.model)
        index = service.build_index(conn, service.encoder(args.model).name, db_path=_db(args), save=True)
    print(f"embedded {n} findings; the index holds {len(index)} vectors")
    return 0


def cmd_export(args) -> int:
    from corpus.export import export_findings

    with closing(store.connect(_db(args), readonly=True)) as conn:
        n = export_findings(conn, Path(args.csv), store.FindingFilter(
            kind=args.kind, unit=args.unit, year=args.year, with_neutral=args.with_neutral))
    print(f"wrote {n} findings to {args.csv}")
    return 0


def cmd_sample(args) -> int:
    from parlens.sample import draw, read_ids, write_sample

    exclude = set()
    for name in args.exclude_ids or []:
        try:
            exclude |= read_ids(Path(name))
        except OSError as exc:
            raise SystemExit(f"parlens: {name}: cannot read the id list ({exc.strerror})")
    with closing(store.connect(_db(args), readonly=True)) as conn:
        rows = draw(conn, args.kind, args.n, args.seed, exclude)
        path = write_sample(conn, rows, Path(args.out))
    print(f"drew {len(rows)} rows (seed {args.seed}) into {path}")
    return 0


def cmd_eval(args) -> int:
    from parlens.evaluate import evaluate

    result = evaluate(Path(args.gold_dir), Path(args.text_dir), verbose=args.verbose,
                      keep_csv=Path(args.csv) if args.csv else None)
    print(result.report)
    return 0


def cmd_train(args) -> int:
    """Rebuild the statement and figure-ownership models from nlp/data/training (fixed seeds);
    --cv prints the grouped cross-validation that chose their thresholds."""
    from nlp import figure_model, stance
    from nlp.statements import build_model, model_path

    out = Path(args.out) if args.out else model_path()
    fig_out = out.with_name(f"figures-{out.name}") if args.out else figure_model.model_path()
    fig = figure_model.build_model(fig_out, folds=args.folds)
    stance_out = out.with_name(f"stance-{out.name}") if args.out else stance.model_path()
    st = stance.build_model(stance_out)
    res = build_model(out, folds=args.folds)
    if args.cv:
        print(f"{res['clauses']} clauses from {res['documents']} documents, {res['folds']}-fold cross-validation "
              "grouped by document")
        print(f"threshold {res['threshold']:.2f}: statement F1 {res['statement_f1']:.3f}, "
              f"accuracy {res['accuracy']:.3f}, macro-F1 {res['macro_f1']:.3f}")
        print("F1 by kind: " + ", ".join(f"{k} {v:.3f}" for k, v in res["per_class_f1"].items()))
        print(f"figure ownership: {fig['examples']} labelled percentages ({fig['owned']} a unit's own), "
              f"threshold {fig['threshold']:.2f}: F1 {fig['f1']:.3f}")
    print(f"model: {out}")
    print(f"figure model: {fig_out}")
    if args.cv:
        print(f"stance: grouped CV accuracy {st['model_accuracy']:.3f} (rules alone {st['rules_accuracy']:.3f})")
    print(f"stance model: {stance_out}")
    return 0


def cmd_search(args) -> int:
    """Search through the warm search server (started on first use) unless --no-server or
    PARLENS_SEARCH_SERVER=off: then the model loads in this process."""
    from parlens import search_server

    filters = {"kind": args.kind, "unit": args.unit, "year": args.year}
    if args.no_server or not search_server.enabled():
        from parlens.service import search
        hits = search(_db(args), args.query, limit=args.limit, model=args.model, **filters)
    else:
        if not _db(args).exists():
            raise CliError(f"no store at {_db(args)}: pass --db, or ingest documents first")
        try:
            hits = search_server.search(_db(args), args.query, filters, args.limit, args.model)
        except search_server.SearchServerError as exc:
            raise CliError(str(exc)) from None
    if args.by_document:
        from parlens.service import group_by_document
        groups = group_by_document(hits)
        if args.json:
            print(json.dumps([g.as_json() for g in groups], ensure_ascii=False, indent=2))
            return 0
        for g in groups:
            print(f"■ {g.title or g.doc_id} ({g.doc_id})")
            for h in g.hits:
                print(f"   {hits.index(h) + 1:2d}. [{h.score:.3f}] {h.kind:8s} {h.unit or '-'} ({h.year or '-'})\n"
                      f"       {h.text}")
        return 0
    if args.json:
        print(json.dumps([h.as_json() for h in hits], ensure_ascii=False, indent=2))
    else:
        for i, h in enumerate(hits, 1):
            print(f"{i:2d}. [{h.score:.3f}] {h.kind:8s} {h.unit or '-'} ({h.year or '-'}) {h.doc_id}\n    {h.text}")
    return 0


def cmd_themes(args) -> int:
    from parlens.service import themes_table

    themes = themes_table(_db(args), kind=args.kind, rebuild=args.rebuild, model=args.model)
    if not themes and not args.rebuild:
        print("no themes stored yet: run `parlens themes --rebuild` (ingest builds them too)", file=sys.stderr)
    if args.csv:
        from corpus.export import write_csv
        rows = [t.as_row() for t in themes]
        write_csv(rows, Path(args.csv), list(rows[0]) if rows else ["id", "label"])
        print(f"wrote {len(rows)} themes to {args.csv}")
    if args.json:
        print(json.dumps([t.as_json() for t in themes], ensure_ascii=False, indent=2))
    elif not args.csv:
        for t in themes:
            print(f"#{t.id:<3d} {t.label}  — {t.n_statements} statements, {t.n_documents} documents, "
                  f"{t.n_units} units, years {t.years_text}\n     “{t.quote}”")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="parlens", description=(
        "Findings on Vietnamese administrative reform: units, figures, weaknesses, causes, remedies."))
    p.add_argument("--db", help=f"store file (default: ${store.ENV_DB} or the user data directory)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="read documents (.txt, .html, .jsonl[.gz], folders) into the store")
    s.add_argument("paths", nargs="+")
    s.add_argument("--db", default=argparse.SUPPRESS)
    s.add_argument("--workers", type=_positive, default=1,
                   help="processes for analysis (default 1); with --dask local, the LocalCluster's workers")
    s.add_argument("--dask", metavar="SCHEDULER",
                   help="analyse on a Dask cluster: tcp://HOST:8786, or 'local' for a LocalCluster")
    s.add_argument("--batch-size", type=_positive, default=16)
    s.add_argument("--no-embed", action="store_true", help="skip embeddings (then run `parlens index`)")
    s.add_argument("--no-themes", action="store_true", help="do not rebuild the themes after ingest")
    s.add_argument("--all", action="store_true", help="analyse every document, not only those about reform")
    s.add_argument("--model", help="sentence-transformers model name or path for embeddings")
    s.add_argument("--default-year", type=_year, metavar="YEAR",
                   help="publication year of documents that carry no date (no date field, no dateline)")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("export", help="write the findings CSV")
    s.add_argument("--db", default=argparse.SUPPRESS)
    s.add_argument("--csv", required=True)
    s.add_argument("--kind", type=_kind, help=f"{', '.join(KINDS)} or {', '.join(ALIASES)} (comma-separated)")
    s.add_argument("--unit", help="unit name as written or normalised (substring), or its code")
    s.add_argument("--year", type=int, help="the finding's year (its document's publication year when it names none)")
    s.add_argument("--with-neutral", action="store_true",
                   help="also figures that belong to no unit (averages, gaps, national totals)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("sample", help="draw random exported rows, with their sources, for readers to judge")
    s.add_argument("--db", default=argparse.SUPPRESS)
    s.add_argument("--kind", type=_kind, required=True)
    s.add_argument("--n", type=_positive, default=100)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="folder for rows.csv and docs/")
    s.add_argument("--exclude-ids", action="append", help="file of document ids to leave out (repeatable)")
    s.set_defaults(func=cmd_sample)

    s = sub.add_parser("eval", help="score extraction against gold annotations")
    s.add_argument("gold_dir")
    s.add_argument("text_dir")
    s.add_argument("--csv", help="also keep the findings CSV here")
    s.add_argument("--verbose", action="store_true")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("train", help="rebuild the learned models from nlp/data/training")
    s.add_argument("--cv", action="store_true", help="print the grouped cross-validation that chose the threshold")
    s.add_argument("--folds", type=_positive, default=5)
    s.add_argument("--out", help="write the model here instead of the cache the pipeline reads")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("search", help="semantic + keyword search over findings")
    s.add_argument("query")
    s.add_argument("--db", default=argparse.SUPPRESS)
    s.add_argument("--kind", type=_kind)
    s.add_argument("--unit")
    s.add_argument("--year", type=int)
    s.add_argument("--limit", type=_positive, default=10)
    s.add_argument("--model", help="sentence-transformers model name or path")
    s.add_argument("--json", action="store_true")
    s.add_argument("--by-document", action="store_true", help="group the results by document (best first)")
    s.add_argument("--no-server", action="store_true",
                   help="load the model in this process instead of the warm search server")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("index", help="embed findings stored without a vector (the search index job)")
    s.add_argument("--db", default=argparse.SUPPRESS)
    s.add_argument("--model", help="sentence-transformers model name or path")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("themes", help="recurring weaknesses (or remedies) across documents")
    s.add_argument("--db", default=argparse.SUPPRESS)
    s.add_argument("--kind", default="weakness", choices=list(theme_groups()))
    s.add_argument("--rebuild", action="store_true", help="cluster again (after new findings) and store the themes")
    s.add_argument("--csv")
    s.add_argument("--model")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_themes)

    # listed for --help; main() hands `parlens bench ...` to parlens.bench before parsing
    sub.add_parser("bench", help="speed and memory benchmarks (see `parlens bench --help`)", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # its options are its own (see parlens.bench)
        from parlens.bench import main as bench_main
        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    if not hasattr(args, "db"):
        args.db = None
    from parlens.evaluate import EvalError

    try:
        return args.func(args)
    except (CliError, store.StoreError, EvalError) as exc:
        print(f"parlens: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("parlens: interrupted; everything written so far is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
