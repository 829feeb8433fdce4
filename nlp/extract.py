"""From spaCy Docs to stored findings: the analyser ingest calls.

Everything a document yields (sentences, entities, figures, statements,
embeddings) is computed here and handed to the store in one piece.
"""
from __future__ import annotations

import hashlib
import math
import signal
import threading
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from typing import Callable

from spacy.language import Language
from spacy.tokens import Doc

from corpus.store import Analysis, DocumentRecord, Entity, Finding
from nlp.entities import GROUP, UnitRef
from nlp.figures import Figure
from nlp.segment import text_of

# Bumped by hand when extraction logic changes; data files are hashed in.
EXTRACTOR_VERSION = "3"
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


def _unit_fields(ref: UnitRef | None, doc: Doc) -> dict:
    if ref is None:
        return {}
    province = ref.province_name
    if province is None and ref.kind == "department":
        ctx = doc._.context
        main = ctx.main_province if ctx is not None else None
        if main:
            from nlp.units import gazetteer
            unit = gazetteer().by_code.get(("province", main))
            province = unit.name if unit else None
    return {
        "unit": ref.written or ref.name,   # as the text names it, which readers quote
        "unit_name": ref.name,             # normalised: what views group by
        "unit_code": ref.code,
        "province": province,
        "unit_type": (ref.admin.level if ref.admin else ref.kind),
    }


def figure_findings(doc: Doc, fig: Figure) -> list[Finding]:
    start = fig.quote_start
    while start < fig.start and text_of(doc)[start].isspace():
        start += 1
    base = dict(
        kind="figure", text=text_of(doc)[start:fig.end], start=start, end=fig.end,
        metric=fig.metric, value=None if math.isnan(fig.value) else fig.value, value_type=fig.value_type,
        value_role=fig.value_role, year=fig.year,
        confidence=fig.confidence, rank_position=fig.position, rank_total=fig.total, rank_direction=fig.direction,
        sent_start=fig.sent_start, sent_end=fig.sent_end,
    )
    if fig.value_type in ("fraction", "score") and fig.total is not None:
        base["rank_total"] = fig.total
    if not fig.units:
        base["value_role"] = "neutral"
        return [Finding(**base, extra={"role": fig.role or "unattributed", "value_start": fig.start})]
    return [Finding(**base, **_unit_fields(ref, doc), extra={"value_start": fig.start}) for ref in fig.units]


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
    findings.sort(key=lambda f: (f.start, f.end))
    return Analysis(
        sentences=[(s.start_char, s.end_char) for s in doc.sents] if len(doc) else [],
        entities=entities_of(doc),
        findings=findings,
        notes=notes,
    )


class DocumentTimeout(Exception):
    """A document took longer than its time budget; it is reported and skipped."""


@contextmanager
def time_limit(seconds: float | None):
    """Raise DocumentTimeout after `seconds` (main thread only; elsewhere no limit applies)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise DocumentTimeout(f"exceeded the time limit of {seconds:g} s per document")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Analyser:
    """Runs the pipeline over a batch of documents; optionally embeds findings.

    Each document has a time budget (`time_limit` seconds, scaled by batch
    size): a document that exceeds it fails alone, the rest are kept.
    """

    def __init__(self, nlp: Language | None = None, embed: Callable[[list[str]], object] | None = None,
                 model_name: str | None = None, batch_size: int = 8, time_limit: float | None = 120.0):
        from nlp.pipeline import load

        self.nlp = nlp or load()
        self.embed = embed
        self.model_name = model_name
        self.batch_size = batch_size
        self.time_limit = time_limit

    def _make_docs(self, records: list[DocumentRecord]):
        """Tokenised Docs carrying the metadata components read (publication date, type)."""
        for record in records:
            doc = self.nlp.make_doc(record.text[:MAX_CHARS])
            doc.user_data.update(published=record.published, doc_type=record.doc_type, title=record.title)
            yield doc

    def __call__(self, docs: list[DocumentRecord]) -> list[Analysis]:
        with time_limit(self.time_limit * len(docs) if self.time_limit else None):
            return self._analyse(docs)

    def _analyse(self, docs: list[DocumentRecord]) -> list[Analysis]:
        out = []
        for record, doc in zip(docs, self.nlp.pipe(self._make_docs(docs), batch_size=self.batch_size)):
            analysis = doc_to_analysis(doc)
            if len(record.text) > MAX_CHARS:
                analysis.notes.insert(0, f"text of {len(record.text):,} characters; only the first "
                                         f"{MAX_CHARS:,} were analysed")
            if self.embed is not None and analysis.findings:
                analysis.embeddings = self.embed([f.text for f in analysis.findings])
                analysis.model = self.model_name
            out.append(analysis)
        return out
