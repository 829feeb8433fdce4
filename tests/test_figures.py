"""Figures bound to unit, metric and year, on Vietnamese sentences written like the news."""
import pytest

from nlp.extract import doc_to_analysis


@pytest.fixture(scope="module")
def figures(nlp):
    def run(text, published="2023-07-05", with_neutral=False):
        doc = nlp.make_doc(text)
        doc.user_data.update(published=published, doc_type="news article")
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        out = [f for f in doc_to_analysis(doc).findings if f.kind == "figure"]
        return out if with_neutral else [f for f in out if f.unit]
    return run


def test_enumeration_gives_each_unit_its_own_value(figures):
    out = figures("Theo kết quả Chỉ số cải cách hành chính năm 2022, hai đơn vị thấp điểm nhất là "
                  "quận Hai Bà Trưng với 89,08% và huyện Ứng Hòa đạt 88,86%.")
    pct = {(f.unit, f.value) for f in out if f.value_type == "percent"}
    assert pct == {("quận Hai Bà Trưng", 89.08), ("huyện Ứng Hòa", 88.86)}
    assert all(f.metric == "par_index" and f.year == 2022 for f in out)
    ranks = {(f.unit, f.rank_direction) for f in out if f.value_type == "rank"}
    assert ranks == {("quận Hai Bà Trưng", "bottom"), ("huyện Ứng Hòa", "bottom")}
    hbt = next(f for f in out if f.value == 89.08)
    assert hbt.unit_code == "007" and hbt.province == "Thành phố Hà Nội"


def test_one_value_shared_by_a_list_of_units(figures):
    out = figures("Năm 2022, Sở Tư pháp và Sở Tài chính cùng đạt 91,2% chỉ số cải cách hành chính.")
    assert {(f.unit, f.value) for f in out} == {("Sở Tư pháp", 91.2), ("Sở Tài chính", 91.2)}


def test_subject_carried_over_and_change_is_not_a_score(figures):
    text = ("Chỉ số cải cách hành chính năm 2021 của huyện Mỹ Đức xếp thứ 25/30. "
            "Kết quả chỉ số đạt 82,5%, tăng 5% so với năm 2020.")
    out = figures(text, published="2022-03-01", with_neutral=True)
    own = [(f.unit, f.value, f.value_type, f.year) for f in out if f.unit]
    assert ("huyện Mỹ Đức", 82.5, "percent", 2021) in own
    rank = next(f for f in out if f.value_type == "rank")
    assert (rank.unit, rank.rank_position, rank.rank_total) == ("huyện Mỹ Đức", 25, 30)
    change = next(f for f in out if f.value == 5.0)
    assert change.unit is None and change.extra["role"] == "change"


@pytest.mark.parametrize("text,value,role", [
    ("Chỉ số của tỉnh Quảng Ninh thấp hơn 27,77% so với Đà Nẵng.", 27.77, "gap"),
    ("Năm 2016, các bộ đạt bình quân 80,5%.", 80.5, "average"),
    ("Năm 2016, 19 bộ có chỉ số đạt trên 75%.", 75.0, "threshold"),
    ("Cả nước có 63 tỉnh, thành phố; tỷ lệ chung toàn quốc đạt 81,2%.", 81.2, "national"),
    ("Mục tiêu đến năm 2025, tỉnh Bắc Ninh phấn đấu đạt 95% hồ sơ trực tuyến.", 95.0, "target"),
])
def test_values_that_are_not_a_units_score(figures, text, value, role):
    out = figures(text, with_neutral=True)
    f = next(f for f in out if f.value == value)
    assert f.unit is None and f.extra["role"] == role


@pytest.mark.parametrize("text,metric", [
    ("Tỷ lệ hồ sơ giải quyết đúng hạn của UBND huyện Ba Vì đạt 98,5%.", "on_time"),
    ("Tỷ lệ dịch vụ công trực tuyến toàn trình của UBND huyện Ba Vì đạt 65%.", "online_service"),
    ("Chỉ số hài lòng SIPAS năm 2022 của tỉnh Nghệ An đạt 85,3%.", "satisfaction"),
    ("UBND huyện Ứng Hòa đã đạt 66% nội dung kế hoạch khắc phục năm 2023.", "progress"),
    ("Chỉ số thành phần cải cách thủ tục hành chính của tỉnh Nghệ An đạt 70,2%.", "par_component"),
    ("Theo Chỉ số CCHC năm 2022, tỉnh Nghệ An đạt 86,1%.", "par_index"),
])
def test_metric_from_cues(figures, text, metric):
    (f,) = [f for f in figures(text) if f.value_type == "percent"]
    assert f.metric == metric


def test_index_year_not_publication_year(figures):
    (f,) = figures("Theo Chỉ số CCHC năm 2022 vừa công bố, quận Cầu Giấy đạt 95,24%.", published="2023-05-02")
    assert f.year == 2022
    (g,) = figures("Quận Cầu Giấy đạt 95,24% chỉ số cải cách hành chính.", published="2023-05-02")
    assert g.year == 2022  # an index is published the year after the one it measures


@pytest.mark.parametrize("text,unit,pos,total,direction", [
    ("Thành phố Hà Nội xếp thứ 10/63 tỉnh, thành phố.", "thành phố Hà Nội", 10, 63, None),
    ("Năm 2021, tỉnh Quảng Ninh đứng đầu cả nước.", "tỉnh Quảng Ninh", 1, None, "top"),
    ("Năm 2021, huyện Thường Tín đứng cuối bảng.", "huyện Thường Tín", None, None, "bottom"),
    ("Năm 2020 TP. Hà Nội xếp vị trí thứ 8.", "thành phố Hà Nội", 8, None, None),
])
def test_ranks(figures, text, unit, pos, total, direction):
    ranks = [f for f in figures(text) if f.value_type == "rank"]
    assert [(f.unit, f.rank_position, f.rank_total, f.rank_direction) for f in ranks] == [(unit, pos, total, direction)]


def test_head_of_agency_is_not_a_rank(figures):
    assert not [f for f in figures("Quận Hai Bà Trưng gắn trách nhiệm người đứng đầu với kết quả CCHC.")
                if f.value_type == "rank"]


def test_scores_and_fractions(figures):
    out = figures("Huyện Thường Tín đạt 35,18/38 điểm. UBND huyện Ứng Hòa đã hoàn thành 16/24 chỉ tiêu năm 2023.")
    score = next(f for f in out if f.value_type == "score")
    assert (score.unit, score.value, score.rank_total) == ("huyện Thường Tín", 35.18, 38)
    frac = next(f for f in out if f.value_type == "fraction")
    assert (frac.unit, frac.value, frac.rank_total, frac.metric) == ("huyện Ứng Hòa", 16, 24, "progress")
