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


def test_subject_carried_over_and_a_change_is_the_units_with_its_role(figures):
    text = ("Chỉ số cải cách hành chính năm 2021 của huyện Mỹ Đức xếp thứ 25/30. "
            "Kết quả chỉ số đạt 82,5%, tăng 5% so với năm 2020.")
    out = figures(text, published="2022-03-01", with_neutral=True)
    own = [(f.unit, f.value, f.value_type, f.year, f.value_role) for f in out if f.unit]
    assert ("huyện Mỹ Đức", 82.5, "percent", 2021, "level") in own
    rank = next(f for f in out if f.value_type == "rank")
    assert (rank.unit, rank.rank_position, rank.rank_total) == ("huyện Mỹ Đức", 25, 30)
    change = next(f for f in out if f.value == 5.0)
    assert (change.unit, change.value_role) == ("huyện Mỹ Đức", "change")


@pytest.mark.parametrize("text,value,role", [
    ("Chỉ số của tỉnh Quảng Ninh thấp hơn 27,77% so với Đà Nẵng.", 27.77, "gap"),
    ("Năm 2016, giá trị trung bình của các bộ đạt 80,5%.", 80.5, "average"),
    ("Năm 2016, 19 bộ có chỉ số đạt trên 75%.", 75.0, "threshold"),
    ("Cả nước có 63 tỉnh, thành phố; tỷ lệ chung toàn quốc đạt 81,2%.", 81.2, "national"),
])
def test_values_that_are_not_a_units_score(figures, text, value, role):
    out = figures(text, with_neutral=True)
    f = next(f for f in out if f.value == value)
    assert f.unit is None and f.extra["role"] == role and f.value_role == "neutral"


@pytest.mark.parametrize("text,value,role", [
    ("Mục tiêu đến năm 2025, tỉnh Bắc Ninh phấn đấu đạt 95% hồ sơ trực tuyến.", 95.0, "target"),
    ("Năm 2017, tổng sản phẩm trên địa bàn tỉnh Vĩnh Phúc tăng 8,2% so với cùng kỳ.", 8.2, "change"),
    ("Năm 2017, thu từ doanh nghiệp chiếm 62% tổng thu ngân sách của thành phố Đà Nẵng.", 62.0, "share"),
    ("Năm 2016, tỷ lệ hồ sơ đúng hạn của huyện Sóc Sơn đạt 97,3%.", 97.3, "level"),
    ("Năm 2017, Ngân hàng Nhà nước nắm giữ 64% cổ phiếu của một ngân hàng thương mại.", 64.0, "share"),
    ("Năm 2018, Sở Công Thương tỉnh Hải Dương phấn đấu giảm tối thiểu 20% chi phí tuân thủ.", 20.0, "target"),
])
def test_targets_changes_and_shares_of_one_unit_are_its_figures(figures, text, value, role):
    f = next(f for f in figures(text) if f.value == value)
    assert f.unit and f.value_role == role


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
    (g,) = figures("Chỉ số cải cách hành chính vừa công bố: quận Cầu Giấy đạt 95,24%.", published="2023-05-02")
    assert g.year == 2022  # an announced index measures the year before
    (h,) = figures("Quận Cầu Giấy đạt 95,24% chỉ số cải cách hành chính.", published="2023-05-02")
    assert h.year is None  # nothing says which year: no guess from the publication date


@pytest.mark.parametrize("text,unit,pos,total,direction", [
    ("Thành phố Hà Nội xếp thứ 10/63 tỉnh, thành phố.", "thành phố Hà Nội", 10, 63, None),
    ("Năm 2021, tỉnh Quảng Ninh đứng đầu cả nước.", "tỉnh Quảng Ninh", 1, None, "top"),
    ("Năm 2021, huyện Thường Tín đứng cuối bảng.", "huyện Thường Tín", None, None, "bottom"),
    ("Năm 2020 TP. Hà Nội xếp vị trí thứ 8.", "thành phố Hà Nội", 8, None, None),
])
def test_ranks(figures, text, unit, pos, total, direction):
    ranks = [f for f in figures(text) if f.value_type == "rank"]
    assert [(f.unit_name, f.rank_position, f.rank_total, f.rank_direction) for f in ranks] == [
        (unit, pos, total, direction)]


def test_unit_as_written_beside_its_normalised_name(figures):
    (f,) = figures("Năm 2016, tỷ lệ hồ sơ đúng hạn của TP.HCM đạt 97,5%.")
    assert (f.unit, f.unit_name, f.unit_code) == ("TP.HCM", "thành phố Hồ Chí Minh", "79")


def test_head_of_agency_is_not_a_rank(figures):
    assert not [f for f in figures("Quận Hai Bà Trưng gắn trách nhiệm người đứng đầu với kết quả CCHC.")
                if f.value_type == "rank"]


def test_scores_and_fractions(figures):
    out = figures("Huyện Thường Tín đạt 35,18/38 điểm. UBND huyện Ứng Hòa đã hoàn thành 16/24 chỉ tiêu năm 2023.")
    score = next(f for f in out if f.value_type == "score")
    assert (score.unit, score.value, score.rank_total) == ("huyện Thường Tín", 35.18, 38)
    frac = next(f for f in out if f.value_type == "fraction")
    assert (frac.unit_name, frac.value, frac.rank_total, frac.metric) == ("huyện Ứng Hòa", 16, 24, "progress")


@pytest.mark.parametrize("text", [
    "Hội nghị diễn ra từ ngày 15-17/5 tại huyện Đông Anh.",
    "Theo Nghị định 56/2010/NĐ-CP, UBND huyện Gia Lâm rà soát lại 12/2016 hồ sơ.",
    "Giai đoạn 2/2016-5/2017, tỉnh Hà Giang tổ chức nhiều hội nghị.",
])
def test_dates_and_document_numbers_are_not_figures(figures, text):
    assert figures(text, with_neutral=True) == []


@pytest.mark.parametrize("text,value", [
    ("Năm 2017, tăng trưởng GDP cả nước dự kiến đạt 6,7%, tỉnh Lâm Đồng cũng đã có báo cáo.", 6.7),
    ("Theo khảo sát, 45% doanh nghiệp được hỏi tại tỉnh Bình Dương phải chi phí không chính thức.", 45.0),
    ("Chỉ số của thành phố Cần Thơ cao hơn giá trị trung bình 3,5%.", 3.5),
    ("Ông Lê Văn Tâm được HĐND tỉnh Quảng Trị bầu làm Chủ tịch với 96% số đại biểu có mặt tán thành.", 96.0),
    ("Tại kỳ họp, HĐND tỉnh Bình Định miễn nhiệm ông A với 50/52 phiếu, đạt tỷ lệ 96,2%.", 96.2),
    ("Ông B ứng cử tại tỉnh Nam Định được 82% cử tri bầu.", 82.0),
    ("Năm 2017, Thủ tướng Chính phủ yêu cầu giữ lãi suất cho vay nhà ở xã hội ở mức 5%/năm.", 5.0),
    ("Chính phủ đặt mục tiêu năm 2018 đưa 90% thủ tục lên Cổng một cửa quốc gia.", 90.0),
    ("Chính phủ phấn đấu năm 2018 đưa số thuê bao băng rộng tăng trên 25%.", 25.0),
])
def test_national_survey_and_gap_values_get_no_unit(figures, text, value):
    f = next(f for f in figures(text, with_neutral=True) if f.value == value)
    assert f.unit is None and f.value_role == "neutral"


@pytest.mark.parametrize("text", [
    "Quận Ba Đình; quận Hoàn Kiếm; quận Tây Hồ và quận Long Biên là 4 đơn vị dẫn đầu, đều đạt 100% hồ sơ đúng hạn.",
    "Quận Ba Đình, quận Hoàn Kiếm, quận Tây Hồ và quận Long Biên cùng đạt 100% hồ sơ đúng hạn năm 2017.",
])
def test_one_value_reaches_every_listed_unit(figures, text):
    out = [f for f in figures(text) if f.value == 100.0]
    assert {f.unit for f in out} == {"quận Ba Đình", "quận Hoàn Kiếm", "quận Tây Hồ", "quận Long Biên"}


def test_a_range_gives_its_two_ends(figures):
    out = figures("Năm 2018, tỉnh Bắc Ninh phấn đấu tăng trưởng kinh tế từ 8,5 đến 9%.")
    assert sorted((f.value, f.value_role) for f in out if f.value_type == "percent") == [
        (8.5, "range_low"), (9.0, "range_high")]
    assert {f.unit for f in out} == {"tỉnh Bắc Ninh"} and {f.year for f in out} == {2018}


@pytest.mark.parametrize("text,pos,total,metric", [
    ("Chỉ số PCI năm 2016 của tỉnh Cao Bằng xếp 61/63.", 61, 63, "other"),
    ("Về Chỉ số CCHC năm 2016, tỉnh Cao Bằng (58/63) vẫn thuộc nhóm thấp.", 58, 63, "par_index"),
    ("Theo PAPI năm 2016, tỉnh Cao Bằng đứng thứ 40/63.", 40, 63, "other"),
])
def test_ranks_with_their_index(figures, text, pos, total, metric):
    (r,) = [f for f in figures(text) if f.value_type == "rank"]
    assert (r.unit, r.rank_position, r.rank_total, r.metric, r.year) == ("tỉnh Cao Bằng", pos, total, metric, 2016)


@pytest.mark.parametrize("text", [
    "Chủ tịch UBND tỉnh Bắc Giang dẫn đầu đoàn công tác sang thăm Nhật Bản.",
    "UBND huyện Mê Linh quyết định hạ thi đua của cán bộ xuống mức thấp nhất.",
    "Ngành công nghiệp của tỉnh Bình Dương chiếm tỉ trọng cao nhất trong cơ cấu kinh tế.",
    "Năm nay, huyện Can Lộc quyết tâm phấn đấu dẫn đầu tỉnh về xây dựng nông thôn mới.",
    "Đoàn công tác của Bộ Nội vụ do Thứ trưởng Nguyễn Trọng Thừa dẫn đầu làm việc với các tỉnh về chỉ số CCHC.",
    "Theo xếp hạng Chính phủ điện tử năm 2018, Việt Nam đứng thứ 88 trên thế giới.",
    "Giá cà phê tại tỉnh Đắk Lắk xuống mức thấp nhất, nông dân cả nước lao đao.",
])
def test_rank_words_in_another_sense_are_not_ranks(figures, text):
    assert not [f for f in figures(text) if f.value_type == "rank"]


def test_year_from_the_title_and_a_periods_end(figures):
    text = ("Kinh tế tỉnh Nghệ An 6 tháng đầu năm 2017\n"
            "Tỷ lệ giải ngân vốn đầu tư công của tỉnh Nghệ An đạt 45,6%. "
            "Tốc độ tăng trưởng bình quân giai đoạn 2011 - 2016 của tỉnh Nghệ An đạt 7,5%.")
    out = {f.value: f.year for f in figures(text)}
    assert out[45.6] == 2017 and out[7.5] == 2016


@pytest.mark.parametrize("text,metric", [
    ("Chỉ số CCHC năm 2016 của tỉnh Hà Tĩnh, chỉ số thành phần cải cách thể chế đạt 78,1%.", "par_component"),
    ("Năm 2017, tỷ lệ doanh nghiệp nộp thuế điện tử tại tỉnh Hà Tĩnh đạt 98%.", "online_service"),
    ("Theo Chỉ số CCHC năm 2016, lĩnh vực cải cách tài chính công của tỉnh Hà Tĩnh đạt 71,5%.", "par_component"),
])
def test_metric_from_the_phrase_governing_the_value(figures, text, metric):
    (f,) = [f for f in figures(text) if f.value_type == "percent"]
    assert f.metric == metric


def test_the_source_of_the_numbers_is_not_their_unit(figures):
    out = figures("Theo báo cáo của Sở Văn hóa, năm 2016 lượng khách quốc tế đến tỉnh Ninh Bình tăng 12%.")
    assert {(f.unit_name, f.value) for f in out} == {("tỉnh Ninh Bình", 12.0)}


def test_now_in_the_text_is_the_reports_year(figures):
    text = ("Năm 2017, huyện Quốc Oai đặt mục tiêu đến năm 2020 giảm tỷ lệ hộ nghèo xuống còn 2%. "
            "Tỷ lệ hộ nghèo của huyện Quốc Oai hiện nay là 4,5%.")
    out = {f.value: (f.year, f.value_role) for f in figures(text, published="2017-06-01")}
    assert out[2.0] == (2020, "target") and out[4.5][0] == 2017
    out = {f.value: f.year for f in figures(text, published=None)}
    assert out[4.5] == 2017   # no date: the year the report is about


@pytest.mark.parametrize("text,metric", [
    ("Về Chỉ số CCHC năm 2016, tỉnh Bình Định đứng đầu ở lĩnh vực cải cách thủ tục hành chính.", "par_component"),
    ("Ở chỉ số thành phần hiện đại hóa hành chính, tỉnh Bình Định đứng cuối bảng.", "par_component"),
    ("Về Chỉ số CCHC năm 2016, tỉnh Bình Định đứng đầu cả nước.", "par_index"),
])
def test_a_rank_in_a_component_field_is_par_component(figures, text, metric):
    (r,) = [f for f in figures(text) if f.value_type == "rank"]
    assert r.metric == metric


@pytest.mark.parametrize("text", [
    "Theo kết quả PCI năm 2016, chỉ số thành phần tính minh bạch của tỉnh Bến Tre đạt 62,5%.",
    "Chỉ số PAPI năm 2016 của tỉnh Bến Tre đạt 38,2%.",
])
def test_indices_the_guide_does_not_define_are_other(figures, text):
    (f,) = [f for f in figures(text) if f.value_type == "percent"]
    assert f.metric in ("other", "par_component") and f.metric not in ("pci", "papi")
    (g,) = [f for f in figures("Chỉ số PCI năm 2016 của tỉnh Cao Bằng xếp 61/63.") if f.value_type == "rank"]
    assert (g.metric, g.subtype) == ("other", "pci")   # the index stays apart in subtype


@pytest.mark.parametrize("text,value,year", [
    # a plan's horizon is the year of the target, not of the current value
    ("Huyện Bình Chánh phấn đấu đến năm 2020 tỷ lệ rác thải chôn lấp của huyện giảm xuống còn 50%, "
     "hiện nay tỷ lệ này của huyện Bình Chánh khoảng 75%.", 75.0, 2017),
    ("Huyện Bình Chánh phấn đấu đến năm 2020 tỷ lệ rác thải chôn lấp của huyện giảm xuống còn 50%, "
     "hiện nay tỷ lệ này của huyện Bình Chánh khoảng 75%.", 50.0, 2020),
    # the base of a comparison (a real sentence shape: "so với mức của năm 2010")
    ("Năm 2017, lượng bụi mịn trong không khí của tỉnh Thái Bình giảm 20% so với mức của năm 2010.",
     20.0, 2017),
    ("Mức phí mới của thành phố Hải Phòng tăng khoảng 45% so với mức phí năm 2015.", 45.0, None),
    # a document's number is no year of the figure
    ("Theo Nghị quyết số 03/2012/NQ-HĐND, tỉnh Quảng Bình hỗ trợ 40% kinh phí đào tạo.", 40.0, None),
    ("Đến nay, tỷ lệ hồ sơ trực tuyến của tỉnh Quảng Bình đạt 40%, tăng so với năm 2015.", 40.0, 2017),
])
def test_years_of_bases_horizons_and_documents_are_not_the_figures(figures, text, value, year):
    f = next(f for f in figures(text, published="2017-06-01") if f.value == value)
    assert f.year == year


@pytest.mark.parametrize("text,value", [
    ("Bộ Tài chính cho biết, cả nước đã có 99,5% doanh nghiệp khai thuế qua mạng.", 99.5),
    ("Bộ Kế hoạch và Đầu tư cho biết tổng vốn đầu tư toàn xã hội năm 2016 ước bằng 33% GDP.", 33.0),
    ("Quốc hội thông qua chỉ tiêu tăng trưởng GDP năm 2017 khoảng 6,7%, cao hơn năm 2016.", 6.7),
])
def test_national_values_reported_by_a_ministry_or_the_assembly_get_no_unit(figures, text, value):
    f = next(f for f in figures(text, with_neutral=True) if f.value == value)
    assert f.unit is None and f.value_role == "neutral"


def test_a_ministrys_own_value_keeps_its_unit(figures):
    (f,) = figures("Năm 2016, tỷ lệ hồ sơ giải quyết đúng hạn của Bộ Tư pháp đạt 98,2%.")
    assert f.unit == "Bộ Tư pháp" and f.year == 2016


def test_a_unit_reporting_the_numbers_is_not_their_owner(figures):
    out = figures("Sở Lao động tỉnh Kon Tum cho biết, tỷ lệ lao động qua đào tạo của huyện Đăk Hà đạt 45%.")
    assert {(f.unit_name, f.value) for f in out} == {("huyện Đăk Hà", 45.0)}
