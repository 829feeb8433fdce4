"""The SQLite store, and the only part of ParLens that speaks SQL.

A small repository API over one database file: save an analysis
(`save_documents`), query findings with one filter type (`FindingFilter`),
fetch documents, vectors and themes. Writes run in explicit transactions
(`transaction`) that never change the caller's connection mode; a document
and everything derived from it are written together, so after a crash a
document is either wholly present or absent.
"""
from corpus.store.documents import (  # noqa: F401
    StoredIdentity,
    commonest_finding_year,
    compact,
    content_hashes,
    counts,
    data_version,
    document,
    document_counts,
    document_urls,
    document_identity,
    document_texts,
    documents_summary,
    duplicate_ids,
    duplicate_links,
    publication_dates,
    recent_documents,
    save_document,
    save_documents,
    signatures,
    skip_reasons,
)
from corpus.store.findings import (  # noqa: F401
    FindingFilter,
    count_findings,
    filter_options,
    finding_ids,
    findings,
    keyword_search,
    like_pattern,
    unit_key,
    unit_mentions,
)
from corpus.store.schema import (  # noqa: F401
    ENV_DB,
    SCHEMA_VERSION,
    Connection,
    DatabaseError,
    StoreError,
    connect,
    default_db_path,
    transaction,
)
from corpus.store.summaries import (  # noqa: F401
    par_index_figures,
    save_unit_summaries,
    unit_summaries,
    unit_summaries_stale,
)
from corpus.store.vectors import (  # noqa: F401
    findings_version,
    load_vectors,
    save_themes,
    save_vectors,
    stored_themes,
    theme_member_rows,
    theme_inputs,
    themes_built_from,
    unembedded,
)
