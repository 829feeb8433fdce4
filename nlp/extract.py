"""From spaCy Docs to records: the analyser ingest calls.

Everything a document yields (sentences, entities, figures, statements,
embeddings) is computed here and returned as one Analysis record; the NLP
never touches the store. A new finding kind needs its declaration
(corpus.records.register_kind) and a pipeline component that appends
Findings of that kind to ``doc._.findings``.
"""
from __future__ import annotations

import ctypes
import hashlib
import math
import threading
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from typing import Callable

from spacy.language import Language
from spacy.tokens import Doc

from corpus.records import Analysis, DocumentRecord, Entity, Finding
from nlp.entities import GROUP, unit_fields
from nlp.figures import Figure, guide_metric
from nlp.segment import text_of

# Bumped by hand when extraction logic changes; data files are hashed in.
EXTRACTOR_VERSION = "6"
MAX_CHARS = 200_000  # longer texts are cut: bounded time per document
MAX_FIGURES = 300    # a data table is not an article: figures beyond this are dropped, with a note


@lru_cache(maxsize=1)
def version() -> str:
    """Extractor version plus a hash of every lexicon and model file, so edits re-extract."""
    h = hashlib.sha256(EXTRACTOR_VERSION.encode())
    root = resources.files("nlp").joinpath("data")
    for path in sorted(_walk(root), key=str):
        h.update(str(path.name).encode())
        h.update(path.read_bytes())
    from nlp import figure_model, stance, statements
    h.update(statements.data_hash().encode())   # the models' data and code: a new model re-extracts
    h.update(figure_model.data_hash().encode())
    h.update(stance.data_hash().encode())       # the speakers' stance model
    return f"{EXTRACTOR_VERSION}-{h.hexdigest()[:12]}"


def _walk(root):
    for item in root.iterdir():
        if item.is_dir():
            yield from _walk(item)
        elif item.is_file() and not item.name.startswith("."):
            yield item


def figure_findings(doc: Doc, fig: Figure) -> list[Finding]:
    start = fig.quote_start
    while start < fig.start and text_of(doc)[start].isspace():
        start += 1
    base = dict(
        kind="figure", text=text_of(doc)[start:fig.end], start=start, end=fig.end,
        metric=guide_metric(fig.metric), subtype=None if guide_metric(fig.metric) == fig.metric else fig.metric,
        value=None if math.isnan(fig.value) else fig.value, value_type=fig.value_type,
        value_role=fig.value_role, year=fig.year,
        confidence=fig.confidence, rank_position=fig.position, rank_total=fig.total, rank_direction=fig.direction,
        sent_start=fig.sent_start, sent_end=fig.sent_end,
    )
    if fig.value_type in ("fraction", "score") and fig.total is not None:
        base["rank_total"] = fig.total
    if not fig.units:
        base["value_role"] = "neutral"
        return [Finding(**base, extra={"role": fig.role or "unattributed", "value_start": fig.start})]
    return [Finding(**base, **unit_fields(ref, doc), extra={"value_start": fig.start}) for ref in fig.units]


def entities_of(doc: Doc) -> list[Entity]:
    out = []
    for span in doc.spans[GROUP]:
        ref = getattr(span._, "unit", None)
        out.append(Entity(
            label=span.label_, start=span.start_char, end=span.end_char, text=span.text,
            norm=ref.name if ref else None, code=ref.code if ref else None,
            province=ref.province_name if ref else None,
        ))
    return out


def doc_to_analysis(doc: Doc) -> Analysis:
    findings: list[Finding] = []
    notes: list[str] = []
    for fig in doc._.figures or []:
        findings += figure_findings(doc, fig)
    if len(findings) > MAX_FIGURES:
        notes.append(f"{len(findings)} figures found; only the first {MAX_FIGURES} are kept "
                     "(the text looks like a data table)")
        findings = findings[:MAX_FIGURES]
    statements = getattr(doc._, "statements", None) if Doc.has_extension("statements") else None
    for st in statements or []:
        findings.append(st.to_finding(doc))
    findings += doc._.findings or []     # kinds whose component emits Findings directly
    findings.sort(key=lambda f: (f.start, f.end))
    return Analysis(
        sentences=[(s.start_char, s.end_char) for s in doc.sents] if len(doc) else [],
        entities=entities_of(doc),
        findings=findings,
        notes=notes,
    )


if not Doc.has_extension("findings"):
    # A component for a new finding kind appends its Findings here (see corpus.records.register_kind).
    Doc.set_extension("findings", default=None)


class DocumentTimeout(Exception):
    """A document took longer than its time budget; it is reported and skipped."""


@contextmanager
def time_limit(seconds: float | None):
    """Raise DocumentTimeout in this thread once `seconds` have passed.

    Works in any thread (a Dask worker runs tasks off the main thread, where
    SIGALRM cannot reach): a timer raises the exception asynchronously in the
    analysing thread, which sees it at its next Python instruction.
    """
    if not seconds:
        yield
        return
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False}

    def expire() -> None:
        with lock:
            if not state["done"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(DocumentTimeout))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except DocumentTimeout:
        raise DocumentTimeout(f"exceeded the time limit of {seconds:g} s per document") from None
    finally:
        with lock:
            state["done"] = True
        timer.cancel()


class Analyser:
    """Runs the pipeline over a batch of documents; optionally embeds findings.

    Each document has a time budget (`time_limit` seconds, enforced in any
    thread): a document that fails or exceeds it comes back as its exception,
    in its place, and the rest of the batch is kept. Models load when the
    pipeline is built, never inside a budget. Findings of the whole batch are
    embedded together.
    """

    def __init__(self, nlp: Language | None = None, embed: Callable[[list[str]], object] | None = None,
                 model_name: str | None = None, time_limit: float | None = 120.0):
        from nlp.pipeline import load

        self.nlp = nlp or load()
        self.embed = embed
        self.model_name = model_name
        self.time_limit = time_limit

    def _make_doc(self, record: DocumentRecord) -> Doc:
        """A tokenised Doc carrying the metadata components read (publication date, type)."""
        doc = self.nlp.make_doc(record.text[:MAX_CHARS])
        doc.user_data.update(published=record.published, doc_type=record.doc_type, title=record.title)
        return doc

    def analyse(self, record: DocumentRecord) -> Analysis:
        """One document, within its time budget (DocumentTimeout beyond it)."""
        with time_limit(self.time_limit):
            return self._finish(record, self.nlp(self._make_doc(record)))

    def _finish(self, record: DocumentRecord, doc: Doc) -> Analysis:
        analysis = doc_to_analysis(doc)
        if len(record.text) > MAX_CHARS:
            analysis.notes.insert(0, f"text of {len(record.text):,} characters; only the first "
                                     f"{MAX_CHARS:,} were analysed")
        return analysis

    def __call__(self, records: list[DocumentRecord]) -> list[Analysis | Exception]:
        """The batch through `nlp.pipe` (components classify a batch in one model call) within the
        batch's budget; when any document fails or overruns, each is redone alone within its own."""
        try:
            with time_limit(self.time_limit * len(records) if self.time_limit else None):
                docs = self.nlp.pipe((self._make_doc(r) for r in records), batch_size=len(records) or 1)
                out: list[Analysis | Exception] = [self._finish(r, d) for r, d in zip(records, docs)]
        except Exception:
            out = []
            for record in records:
                try:
                    out.append(self.analyse(record))
                except Exception as exc:
                    out.append(exc)
        done = [a for a in out if isinstance(a, Analysis) and a.findings]
        if self.embed is not None and done:
            vectors = self.embed([f.text for a in done for f in a.findings])
            at = 0
            for a in done:
                a.embeddings, a.model = vectors[at:at + len(a.findings)], self.model_name
                at += len(a.findings)
        return out
