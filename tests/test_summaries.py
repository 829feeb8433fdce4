"""The summaries job: the units page and map read a table built once after an ingest, and
show the same thing as a live build over every finding."""
import sqlite3

import pandas as pd
import pytest

from corpus import store
from parlens import summaries, views

EXTRA = ("Sáng 12/7, HĐND tỉnh Quảng Bình chất vấn về cải cách hành chính. Năm 2022, Chỉ số cải cách "
         "hành chính của tỉnh Quảng Bình đạt 82,47%, xếp thứ 45/63 tỉnh, thành phố. Nguyên nhân là do "
         "cán bộ một số sở chưa quyết liệt trong giải quyết thủ tục hành chính cho người dân.\n")


def copy_of(src, dest):
    """A copy through SQLite's backup (the source may still hold pages in its WAL)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    return dest


@pytest.fixture
def conn(seed_store, tmp_path):
    c = store.connect(copy_of(seed_store, tmp_path / "s.sqlite"))
    yield c
    c.close()


def test_the_job_stores_what_a_live_build_computes(conn):
    assert store.unit_summaries_stale(conn)
    live_units, live_map = views.units_table(conn), views.map_points(conn)
    n = summaries.rebuild_unit_summaries(conn)
    assert n == len(live_units) > 5
    assert not store.unit_summaries_stale(conn)
    pd.testing.assert_frame_equal(views.units_table(conn), live_units)
    pd.testing.assert_frame_equal(views.map_points(conn), live_map)


def test_pages_read_the_table_not_the_findings(conn):
    summaries.rebuild_unit_summaries(conn)
    conn.execute("UPDATE unit_summaries SET documents = 999 WHERE unit_key = "
                 "(SELECT unit_key FROM unit_summaries ORDER BY documents DESC LIMIT 1)")
    conn.commit()
    assert views.units_table(conn)["documents"].iloc[0] == 999


def test_the_map_colours_a_district_by_its_latest_par_index_figure(conn):
    summaries.rebuild_unit_summaries(conn)
    points = views.map_points(conn)
    scored = points[points["par_value"].notna()]
    assert not scored.empty
    for p in scored.itertuples():
        figs = [r for r in store.par_index_figures(conn)
                if r["unit_code"] == p.unit_code and r["unit_type"] == p.unit_type
                and r["value_type"] in ("percent", "score")]
        latest = max(figs, key=lambda r: (r["year"], r["id"]))
        assert (p.par_value, p.par_year) == (latest["value"], latest["year"])
        assert 8 <= p.lat <= 24 and 102 <= p.lon <= 110  # inside Vietnam
    assert points["unit_type"].isin(("province", "district", "ward")).all()


def test_findings_added_after_the_job_make_it_stale_and_pages_stay_right(conn, analyser, tmp_path):
    from corpus.ingest import ingest

    summaries.rebuild_unit_summaries(conn)
    before = set(views.units_table(conn)["unit"])
    (tmp_path / "qb.txt").write_text(EXTRA, encoding="utf-8")
    analyse, version = analyser
    ingest([tmp_path / "qb.txt"], conn, analyse, version, progress=False)
    assert store.unit_summaries_stale(conn)
    after = views.units_table(conn)
    assert any("Quảng Bình" in u for u in set(after["unit"]) - before)
    assert views.map_points(conn)["unit"].str.contains("Quảng Bình").any()


def test_the_cli_ingest_runs_the_job(tmp_path):
    from parlens.cli import main
    from conftest import SEEDS

    db = tmp_path / "c.sqlite"
    assert main(["--db", str(db), "ingest", str(sorted(SEEDS.glob("*.txt"))[0]), "--no-embed", "--quiet"]) == 0
    with store.connect(db, readonly=True) as c:
        assert not store.unit_summaries_stale(c)
        assert len(store.unit_summaries(c)) == len(summaries.build(c)) > 0


def test_an_older_store_without_the_table_is_read_live(seed_store, tmp_path):
    path = copy_of(seed_store, tmp_path / "v5.sqlite")
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE unit_summaries")
        raw.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    c = store.connect(path, readonly=True)
    try:
        assert store.unit_summaries_stale(c)
        assert not views.units_table(c).empty
    finally:
        c.close()
