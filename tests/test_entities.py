"""Entity recognition against hand annotations of the five seeds.

The expected sets below were written by reading the cleaned text of each seed
(``clean_text(raw)``), NOT by copying the pipeline's output. For every chosen
paragraph (one line of the cleaned text) the test compares the set of
(label, surface text) pairs of the spans in ``doc.spans["entities"]`` that lie
inside that line with the complete set a careful reader would mark. Equality
is exact: a missed span and a spurious span both fail.

Annotation conventions (from the lead's brief) and the judgment calls made:

* UNIT -- territories with their type word ("quận Hai Bà Trưng", "TP.Hà Nội"),
  councils with their prefix ("UBND huyện Ứng Hòa", "HĐND huyện",
  "UBND Thị trấn"), departments/ministries/named bodies ("Sở Nội vụ",
  "Chính phủ", "Ban Dân tộc"), agencies with a capitalised name as ONE span
  ("Văn phòng HĐND và UBND huyện"), party committees ("Huyện ủy") and bare
  references ("huyện", "quận", "Thị trấn", "Sở", "quận này", "thành phố",
  "tỉnh") when they point at one unit named or implied in context. Plural or
  generic groups ("các quận, huyện, thị xã", "UBND các xã, thị trấn",
  "từng Sở, ngành", "cấp tỉnh", "cấp huyện") are NOT units.
  Judgment calls:
    - A council or agency span is one UNIT; the territory inside it is not a
      second UNIT ("HĐND TP.Hà Nội" only, not also "TP.Hà Nội"), following the
      "Phòng Nội vụ huyện An Dương is ONE unit" rule.
    - Bare "Huyện ủy" / "Đảng ủy" (the district / town party committee in
      context) are UNITs, like a bare "huyện" after a named district.
    - Bare "UBND" / "HĐND" in an elliptical list ("Huyện ủy, HĐND, UBND
      huyện") are UNITs referring to the council in context.
    - "thành phố" / "Thành phố" / "tỉnh" used for the one city / province of
      the article are UNITs (same rule as bare "huyện").
    - "UB MTTQ" (Fatherland Front committee) is a mass organisation, not a
      state body: not a UNIT.
    - "Nhà nước" (the State in general) is not a UNIT.
* PERSON -- names only, without "Ông"/"đồng chí"/"Đ/c". Photo credits that are
  full names ("Minh Anh") are PERSON; initials ("Ảnh: BT") are not.
* ROLE -- title plus the body when adjacent ("Chủ tịch UBND quận Hai Bà
  Trưng", "Lãnh đạo UBND huyện Ứng Hòa", "UV BTV Huyện ủy", "Thủ tướng Chính
  phủ"). A bare "lãnh đạo" / "đại biểu" without a body is not a ROLE.
* Numbers: PERCENT "89,08%"; FRACTION "16/24"; DATE "05/07/2023", "5/7" after
  ngày/sáng/chiều, "6/2023" after tháng. Judgment call: a bare month after
  "tháng" ("tháng 7 này", "tháng 6") is a DATE with the same surface rule as
  "tháng 6/2023", i.e. the number alone ("7"). "6 tháng" (six months) is a
  NUMBER. Ranks ("thứ 10") are NUMBERs. A range "2021-2026" is two YEARs.
  Digits inside names are not numbers: "ISO 9001:2008" (a standard's
  identifier) and the slogans "Ngày thứ 4 không viết" (weekday names) carry no
  NUMBER/YEAR; nor does the number of a LEGAL_DOC ("Nghị quyết 63" is one
  LEGAL_DOC, not also NUMBER "63"; same for "Đề án 06", "Kế hoạch số 88").
* INDEX -- "chỉ số cải cách hành chính", "Chỉ số CCHC", "Chỉ số PAPI", "mức độ
  hài lòng", the SIPAS index by its full written name, "chỉ số nội dung" (a
  PAPI dimension index, same kind as "chỉ số thành phần"). "sự hài lòng của
  người dân" used as a goal is not an INDEX; the "(CCHC)" gloss after an index
  name is not part of it.
* LEGAL_DOC -- numbered documents ("Nghị quyết 63", "Công văn số
  134/UBND-KSTT", "Đề án 06", "Kế hoạch số 88") and named laws ("Luật Tổ chức
  chính quyền địa phương"). Unnumbered generic mentions ("Quyết định",
  "Đề án sắp xếp cán bộ...", "Chương trình tổng thể CCHC...") are not.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus" / "seeds"
HANOI = "Thành phố Hà Nội"


@lru_cache(maxsize=1)
def _nlp():
    from nlp.pipeline import load
    return load(("parlens_entities",))


@lru_cache(maxsize=8)
def seed_doc(prefix: str):
    from corpus.clean import clean_text
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return _nlp()(clean_text(path.read_text(encoding="utf-8")))


def text_doc(text: str):
    from corpus.clean import clean_text
    return _nlp()(clean_text(text))


def line_bounds(text: str, index: int) -> tuple[int, int]:
    start = 0
    for i, line in enumerate(text.split("\n")):
        if i == index:
            return start, start + len(line)
        start += len(line) + 1
    raise IndexError(index)


def entities_in(doc, start: int, end: int) -> set[tuple[str, str]]:
    return {(s.label_, s.text) for s in doc.spans["entities"] if s.start_char >= start and s.end_char <= end}


# seed -> line index -> (opening words of the line, expected (label, text) set)
EXPECTED: dict[str, dict[int, tuple[str, set[tuple[str, str]]]]] = {
    # ------------------------------------------------------------------ 000
    # HĐND TP.Hà Nội questioning session, 5/7/2023.
    "000": {
        4: ("Chiều 5/7, HĐND TP.Hà Nội", {
            ("DATE", "5/7"),
            ("UNIT", "HĐND TP.Hà Nội"),
            ("UNIT", "thành phố"),  # "cơ quan nhà nước thuộc thành phố" = Hà Nội
        }),
        6: ("Theo kết quả chỉ số cải cách hành chính năm 2022", {
            ("INDEX", "chỉ số cải cách hành chính"),
            ("YEAR", "2022"),
            # "UBND các quận, huyện, thị xã" (twice) and "các sở" are generic.
            ("UNIT", "TP.Hà Nội"),
            ("UNIT", "quận Hai Bà Trưng"),
            ("PERCENT", "89,08%"),
            ("UNIT", "huyện Ứng Hòa"),
            ("PERCENT", "88,86%"),
            # "hai đơn vị": number written as a word, not marked.
        }),
        7: ("Tại phiên chất vấn chiều 5/7", {
            ("DATE", "5/7"),
            ("ROLE", "đại biểu HĐND TP.Hà Nội"),
            ("UNIT", "HĐND TP.Hà Nội"),
            ("NUMBER", "2"),
            # "lãnh đạo 2 quận, huyện này": plural reference, no UNIT; "lãnh
            # đạo" has no single body next to it, no ROLE.
        }),
        17: ("Ông Nguyễn Quang Trung - Chủ tịch UBND quận Hai Bà Trưng", {
            ("PERSON", "Nguyễn Quang Trung"),
            ("ROLE", "Chủ tịch UBND quận Hai Bà Trưng"),
            ("UNIT", "UBND quận Hai Bà Trưng"),
            ("UNIT", "quận này"),
            ("YEAR", "2023"),
            # "Ảnh: BT": initials of the author, not a PERSON.
        }),
        18: ("Tính đến thời điểm này, UBND huyện Ứng Hòa", {
            ("UNIT", "UBND huyện Ứng Hòa"),
            ("FRACTION", "16/24"),
            ("YEAR", "2023"),
            ("PERCENT", "66%"),
        }),
        19: ("Tổng số tồn tại trong công tác cải cách hành chính huyện", {
            ("UNIT", "huyện"),  # = huyện Ứng Hòa
            ("YEAR", "2022"),
            ("NUMBER", "13"),
            ("NUMBER", "7"),
        }),
        23: ("Với quận Hai Bà Trưng, ông Nguyễn Quang Trung", {
            ("UNIT", "quận Hai Bà Trưng"),
            ("PERSON", "Nguyễn Quang Trung"),
            ("ROLE", "Chủ tịch UBND quận Hai Bà Trưng"),
            ("UNIT", "UBND quận Hai Bà Trưng"),
            ("INDEX", "chỉ số cải cách hành chính"),
            ("UNIT", "quận"),  # "của quận, quận đã ...", "vị thế của quận"
            ("UNIT", "Thành phố"),  # "các quận, huyện khác của Thành phố" = Hà Nội
        }),
        25: ("Quận Hai Bà Trưng đã và đang", {
            ("UNIT", "Quận Hai Bà Trưng"),
            ("FRACTION", "13/14"),
            ("YEAR", "2022"),
            ("NUMBER", "1"),
            ("UNIT", "Quận"),  # "Quận tiếp tục rà soát" = Hai Bà Trưng
            ("NUMBER", "150"),
            ("INDEX", "chỉ số cải cách hành chính"),
            ("UNIT", "thành phố"),  # "... của thành phố" = Hà Nội
        }),
    },
    # ------------------------------------------------------------------ 001
    # Huyện An Dương (Hải Phòng, never named: "UBND thành phố" is its city).
    "001": {
        4: ("Theo kết quả công bố Chỉ số cải cách hành chính (CCHC)", {
            ("INDEX", "Chỉ số cải cách hành chính"),
            ("YEAR", "2016"),
            ("UNIT", "UBND thành phố"),
            ("UNIT", "huyện An Dương"),
            ("ROLE", "lãnh đạo huyện An Dương"),
            ("NUMBER", "6"),  # "6 tháng cuối năm"
            # "các xã, thị trấn" generic; bare "CCHC" is not an index.
        }),
        14: ("Nhằm khắc phục triệt để những hạn chế", {
            ("UNIT", "huyện An Dương"),
            ("NUMBER", "7"),
            # "hướng tới sự hài lòng của tổ chức, cá nhân": a goal, not an INDEX.
        }),
        16: ("Theo đó, một trong những giải pháp quan trọng", {
            ("UNIT", "huyện An Dương"),
            ("LEGAL_DOC", "Nghị quyết 63"),
            ("UNIT", "Chính phủ"),
            ("LEGAL_DOC", "Nghị định số 20"),
            ("LEGAL_DOC", "Chỉ thị số 18"),
            ("ROLE", "Chủ tịch UBND thành phố"),
            ("UNIT", "UBND thành phố"),
            ("UNIT", "Huyện An Dương"),
            ("UNIT", "Huyện"),  # "Huyện chỉ đạo ...", "Huyện tiếp tục ..."
            ("LEGAL_DOC", "Nghị quyết số 37"),
            # "UBND huyện, quận, thị xã, thành phố trực thuộc tỉnh": generic.
            ("UNIT", "huyện"),  # "huyện tiến hành rà soát", "UBND thành phố, huyện ban hành"
            ("INDEX", "chỉ số CCHC"),
            # "ISO 9001:2008": a standard's identifier, no NUMBER/YEAR.
            # "chính sách của Nhà nước": not a UNIT.
            ("YEAR", "2017"),
            # "Đề án sắp xếp cán bộ, ...": unnumbered, not a LEGAL_DOC.
        }),
        18: ("Để công tác CCHC ở huyện An Dương", {
            ("UNIT", "huyện An Dương"),
            ("UNIT", "huyện"),  # "huyện đề nghị ..."
            ("UNIT", "UBND thành phố"),
            ("UNIT", "thành phố"),  # "của thành phố giao"
            ("UNIT", "UBND huyện"),  # bộ phận "một cửa" UBND huyện = An Dương
        }),
        20: ("Được biết, ngay trong tháng 7 này", {
            ("DATE", "7"),  # "tháng 7 này" (see module docstring)
            ("UNIT", "huyện An Dương"),
            ("LEGAL_DOC", "Kế hoạch số 88"),
            ("UNIT", "UBND huyện"),
            ("UNIT", "Huyện An Dương"),
            ("UNIT", "Văn phòng HĐND và UBND huyện"),
            ("UNIT", "UBND thành phố"),
            ("YEAR", "2016"),
        }),
    },
    # ------------------------------------------------------------------ 002
    # HĐND huyện (Hoài Đức, never named) supervises thị trấn Trạm Trôi.
    "002": {
        2: ("HĐND huyện giám sát", {
            ("UNIT", "HĐND huyện"),
            ("UNIT", "thị trấn Trạm Trôi"),
        }),
        5: ("Sáng 30/8, HĐND huyện tổ chức giám sát", {
            ("DATE", "30/8"),
            ("UNIT", "HĐND huyện"),
            ("YEAR", "2023"),
            ("UNIT", "thị trấn Trạm Trôi"),
            ("PERSON", "Hồ Trung Nghĩa"),
            ("ROLE", "UV BTV Huyện ủy"),
            ("UNIT", "Huyện ủy"),
            ("ROLE", "Phó Chủ tịch HĐND huyện"),
            ("PERSON", "Bùi Hữu Sơn"),
            ("ROLE", "Phó Bí thư Thường trực Đảng ủy"),
            ("UNIT", "Đảng ủy"),  # Đảng ủy thị trấn
            ("PERSON", "Nguyễn Văn Hùng"),
            ("ROLE", "Phó Bí thư Đảng ủy"),
            ("ROLE", "Chủ tịch UBND Thị trấn"),
            ("UNIT", "UBND Thị trấn"),
            ("ROLE", "lãnh đạo UBND"),  # "lãnh đạo UBND, UB MTTQ"
            ("UNIT", "UBND"),  # = UBND Thị trấn; "UB MTTQ" is not a state body
        }),
        7: ("Trước khi vào làm việc, Đoàn giám sát HĐND huyện", {
            ("UNIT", "HĐND huyện"),
            ("UNIT", "UBND Thị trấn Trạm Trôi"),
        }),
        13: ("Đ/c Nguyễn Văn Hùng – Phó Bí thư Đảng ủy", {
            ("PERSON", "Nguyễn Văn Hùng"),
            ("ROLE", "Phó Bí thư Đảng ủy"),
            ("UNIT", "Đảng ủy"),
            # the source glues "UBNDThị trấn": a reader still sees the unit.
            ("ROLE", "Chủ tịch UBNDThị trấn"),
            ("UNIT", "UBNDThị trấn"),
        }),
        17: ("UBND Thị trấn cũng đã kịp thời sửa đổi", {
            ("UNIT", "UBND Thị trấn"),
            ("LEGAL_DOC", "Luật Tổ chức chính quyền địa phương"),
            ("NUMBER", "179"),
            ("NUMBER", "121"),
            ("NUMBER", "58"),
            ("YEAR", "2022"),
            ("DATE", "6/2023"),
            ("NUMBER", "45"),
            ("NUMBER", "2.358"),
            ("NUMBER", "162"),
            ("NUMBER", "04"),
            ("NUMBER", "86"),
            ("INDEX", "mức độ hài lòng"),
            ("PERCENT", "99,66%"),
            # "Ngày thứ 4 không viết", "Ngày thứ 5 ...", "Ngày thứ 6 xanh":
            # slogan names with weekdays, no NUMBER.
        }),
        21: ("Cùng với đó, công tác cải cách tổ chức bộ máy", {
            ("UNIT", "UBND Thị trấn"),
            ("PERCENT", "100%"),
            ("LEGAL_DOC", "Đề án 06"),
            ("UNIT", "UBND thị trấn"),
            ("PERCENT", "93,7%"),
            ("PERCENT", "80,12%"),
        }),
        31: ("Phát biểu kết luận buổi giám sát", {
            ("PERSON", "Hồ Trung Nghĩa"),
            ("ROLE", "UV BTV Huyện ủy"),
            ("UNIT", "Huyện ủy"),
            ("ROLE", "Phó Chủ tịch HĐND huyện"),
            ("UNIT", "HĐND huyện"),
            ("YEAR", "2022"),
            ("INDEX", "chỉ số cải cách hành chính"),
            ("UNIT", "Thị trấn"),  # "của Thị trấn", "chính quyền Thị trấn"
            ("NUMBER", "6"),
            ("YEAR", "2023"),
            ("UNIT", "Đảng ủy"),  # "Đảng ủy, UBND Thị trấn"
            ("UNIT", "UBND Thị trấn"),
            ("UNIT", "Thành phố"),  # = Hà Nội
            ("UNIT", "huyện"),  # "của Thành phố và của huyện"
        }),
        35: ("Đồng chí Phó Chủ tịch HĐND huyện nhấn mạnh", {
            ("ROLE", "Phó Chủ tịch HĐND huyện"),
            ("UNIT", "HĐND huyện"),
            ("UNIT", "thị trấn Trạm Trôi"),
            ("UNIT", "huyện"),  # "các ngành của huyện", "trung tâm của huyện"
            ("UNIT", "Thị trấn"),  # "trên địa bàn Thị trấn"
            ("UNIT", "Huyện ủy"),
            ("UNIT", "HĐND"),  # "Huyện ủy, HĐND, UBND huyện": the district's HĐND
            ("UNIT", "UBND huyện"),
            ("UNIT", "Thị trấn Trạm Trôi"),
        }),
    },
    # ------------------------------------------------------------------ 003
    # UBND tỉnh Nghệ An thematic meeting, June 2022.
    "003": {
        1: ("Tại phiên họp chuyên đề UBND tỉnh tháng 6", {
            ("UNIT", "UBND tỉnh"),
            ("DATE", "6"),  # "tháng 6" (see module docstring)
            ("DATE", "16/6"),
            ("ROLE", "Giám đốc Sở Nội vụ"),
            ("UNIT", "Sở Nội vụ"),
            ("PERSON", "Nguyễn Viết Hưng"),
            ("NUMBER", "6"),  # "6 tháng đầu năm"
            ("UNIT", "tỉnh Nghệ An"),
        }),
        3: ("Giám đốc Sở Nội vụ Nguyễn Viết Hưng báo cáo", {
            ("ROLE", "Giám đốc Sở Nội vụ"),
            ("UNIT", "Sở Nội vụ"),
            ("PERSON", "Nguyễn Viết Hưng"),
            ("NUMBER", "6"),
            ("YEAR", "2022"),
        }),
        7: ("Việc giải quyết TTHC cho các tổ chức", {
            ("UNIT", "tỉnh"),  # "trên địa bàn tỉnh" = Nghệ An; "cấp tỉnh/huyện/xã" are levels
            ("NUMBER", "6"),
            ("YEAR", "2022"),
            ("NUMBER", "82.978"),
            ("PERCENT", "96%"),
            ("NUMBER", "3.566"),
            ("PERCENT", "0,4%"),
            ("NUMBER", "46.500"),
            ("PERCENT", "58%"),
            ("NUMBER", "33.140"),
            ("PERCENT", "42%"),
            ("NUMBER", "97.710"),
            ("PERCENT", "87%"),
            ("NUMBER", "14.789"),
            ("PERCENT", "13%"),
            ("UNIT", "UBND tỉnh"),
            ("LEGAL_DOC", "Công văn số 134/UBND-KSTT"),
            ("DATE", "10/3/2022"),
        }),
        23: ("Giám đốc Sở Ngoại vụ Trần Khánh Thục", {
            ("ROLE", "Giám đốc Sở Ngoại vụ"),
            ("UNIT", "Sở Ngoại vụ"),
            ("PERSON", "Trần Khánh Thục"),
            # "từng nhóm sở, ngành": generic.
        }),
        25: ("Cơ bản đồng tình với nội dung báo cáo Sở Nội vụ", {
            ("UNIT", "Sở Nội vụ"),
            # "từng Sở, ngành": generic, not a bare reference.
        }),
        27: ("Trước ý kiến về việc có nên tiếp tục sử dụng thư công vụ", {
            ("NUMBER", "01"),
            ("ROLE", "Giám đốc Sở Thông tin và Truyền thông"),
            ("UNIT", "Sở Thông tin và Truyền thông"),
            ("PERSON", "Lê Bá Hùng"),
            ("UNIT", "Chính phủ"),
            ("UNIT", "Nghệ An"),
            ("UNIT", "Sở TT&TT"),
            ("UNIT", "UBND tỉnh"),
        }),
        29: ("Chủ tịch UBND tỉnh Nguyễn Đức Trung kết luận", {
            ("ROLE", "Chủ tịch UBND tỉnh"),
            ("UNIT", "UBND tỉnh"),
            ("PERSON", "Nguyễn Đức Trung"),
        }),
        31: ("Về nội dung này, Chủ tịch UBND tỉnh Nguyễn Đức Trung", {
            ("ROLE", "Chủ tịch UBND tỉnh"),
            ("UNIT", "UBND tỉnh"),
            ("PERSON", "Nguyễn Đức Trung"),
            ("UNIT", "Sở Nội vụ"),
            # "ngành Nội vụ": a sector, not a body.
            ("UNIT", "tỉnh"),  # "sự phát triển chung của tỉnh"
        }),
    },
    # ------------------------------------------------------------------ 004
    # Hà Nội PAR index 2021 (Chinhphu.vn).
    "004": {
        8: ("Công chức bộ phận \"một cửa\" UBND quận Hoàn Kiếm", {
            ("UNIT", "UBND quận Hoàn Kiếm"),
            ("PERSON", "MInh Anh"),  # photo credit "VGP/MInh Anh" (sic)
        }),
        12: ("Theo báo cáo kết quả Chỉ số cải cách hành chính (CCHC) năm 2021", {
            ("INDEX", "Chỉ số cải cách hành chính"),
            ("YEAR", "2021"),
            # "Ban Chỉ đạo cải cách hành chính của Chính phủ": the named
            # steering committee is a body, "Chính phủ" a second one.
            ("UNIT", "Ban Chỉ đạo cải cách hành chính"),
            ("UNIT", "Chính phủ"),
            ("UNIT", "TP. Hà Nội"),
            ("NUMBER", "10"),  # "vị trí thứ 10"
            ("INDEX", "chỉ số cải cách hành chính"),
            ("PERCENT", "88,54%"),
            ("YEAR", "2020"),
            ("UNIT", "thành phố Hà Nội"),
            ("NUMBER", "8"),
            ("PERCENT", "86,07%"),
        }),
        14: ("Còn theo báo cáo kết quả chỉ số CCHC năm 2021", {
            ("INDEX", "chỉ số CCHC"),
            ("YEAR", "2021"),
            ("UNIT", "TP. Hà Nội"),
            ("UNIT", "Sở Tài chính"),
            ("PERCENT", "89,83%"),
            ("UNIT", "quận Cầu Giấy"),
            ("PERCENT", "95,24%"),
            ("UNIT", "Sở Tài nguyên và Môi trường"),
            ("UNIT", "huyện Thường Tín"),
            # "khối sở, cơ quan tương đương sở", "các quận, huyện, thị xã": generic.
        }),
        16: ("Từ kết quả trên cho thấy", {
            ("INDEX", "Chỉ số CCHC"),
            ("UNIT", "Sở Tài chính"),
            ("UNIT", "Sở Nội vụ"),
            ("UNIT", "UBND quận Cầu Giấy"),
            ("UNIT", "UBND quận Long Biên"),
            ("UNIT", "Sở Lao động, Thương binh và Xã hội"),
            ("UNIT", "Sở Giáo dục và Đào tạo"),
            ("UNIT", "Ban Dân tộc"),
            ("UNIT", "UBND quận Hà Đông"),
            ("UNIT", "UBND huyện Quốc Oai"),
            ("UNIT", "UBND huyện Ba Vì"),
        }),
        18: ("Đứng thứ 2 toàn Thành phố", {
            ("NUMBER", "2"),
            ("UNIT", "Thành phố"),  # "toàn Thành phố", "được Thành phố trao tặng"
            ("INDEX", "chỉ số CCHC"),
            ("YEAR", "2021"),
            # the department's full written name, gloss and city form one body
            ("ROLE", "Giám đốc Sở Lao động-Thương binh và Xã hội (LĐTB&XH) Hà Nội"),
            ("UNIT", "Sở Lao động-Thương binh và Xã hội (LĐTB&XH) Hà Nội"),
            ("PERSON", "Bạch Liên Hương"),
            ("UNIT", "Sở"),  # "của Sở đang thực hiện"
            ("NUMBER", "163"),
            ("PERCENT", "9%"),
            ("NUMBER", "1.800"),
        }),
        20: ("Giám đốc Sở LĐTB&XH chia sẻ", {
            ("ROLE", "Giám đốc Sở LĐTB&XH"),
            ("UNIT", "Sở LĐTB&XH"),
            ("UNIT", "Sở"),  # "khi đến Sở làm việc"
        }),
        24: ("Còn tại quận Cầu Giấy - đơn vị 3 năm liên tiếp", {
            ("UNIT", "quận Cầu Giấy"),
            ("NUMBER", "3"),
            ("YEAR", "2019"),
            ("YEAR", "2020"),
            ("YEAR", "2021"),
            ("INDEX", "Chỉ số cải cách hành chính"),
            # the SIPAS index by its full written name
            ("INDEX", "Chỉ số hài lòng của người dân, tổ chức đối với sự phục vụ của các cơ quan hành chính"),
            ("ROLE", "lãnh đạo UBND quận Cầu Giấy"),
            ("UNIT", "UBND quận Cầu Giấy"),
            ("UNIT", "quận"),  # "chính quyền quận"
        }),
        26: ("Theo Trưởng phòng Nội vụ quận Cầu Giấy Nguyễn Minh Hiển", {
            ("ROLE", "Trưởng phòng Nội vụ quận Cầu Giấy"),
            # "phòng" is fused into the title "Trưởng phòng", so the only
            # free-standing unit mention inside the role is the district.
            ("UNIT", "quận Cầu Giấy"),
            ("PERSON", "Nguyễn Minh Hiển"),
            ("YEAR", "2021"),
            ("UNIT", "UBND quận"),
            ("NUMBER", "6.926"),
            ("NUMBER", "110.148"),
            ("PERCENT", "100%"),
            ("UNIT", "quận"),  # "quận phát động", "toàn quận"
            ("YEAR", "2026"),  # "giai đoạn 2021-2026"
            ("NUMBER", "23"),
            ("NUMBER", "2"),
            ("UNIT", "Phòng Tài chính - Kế hoạch"),
            ("UNIT", "Văn phòng HĐND và UBND quận"),
            ("UNIT", "HĐND quận"),
            # "UBND các phường", "các phường": generic.
        }),
        30: ("Lãnh đạo Thành phố Hà Nội cho rằng", {
            ("ROLE", "Lãnh đạo Thành phố Hà Nội"),
            ("UNIT", "Thành phố Hà Nội"),
            ("INDEX", "Chỉ số cải cách hành chính"),
            ("YEAR", "2021"),
            ("UNIT", "thành phố"),  # "đơn vị hành chính thành phố", "toàn thành phố"
            # "Hội đồng đánh giá": an ad-hoc panel, not a UNIT.
        }),
        36: ("Hướng dẫn người dân sử dụng dịch vụ công trực tuyến", {
            ("UNIT", "UBND huyện Mỹ Đức"),
            ("PERSON", "Minh Anh"),
        }),
        42: ("Trước đó, cuối tháng 3/2022", {
            ("DATE", "3/2022"),
            ("UNIT", "UBND TP. Hà Nội"),
            ("YEAR", "2022"),
            ("UNIT", "TP. Hà Nội"),
        }),
        44: ("Kế hoạch ban hành kèm theo Quyết định số 1003/QĐ-UBND", {
            ("LEGAL_DOC", "Quyết định số 1003/QĐ-UBND"),
        }),
        46: ("Theo Sở Nội vụ Hà Nội", {
            ("UNIT", "Sở Nội vụ Hà Nội"),
            ("YEAR", "2021"),
            ("UNIT", "thành phố Hà Nội"),
            ("NUMBER", "550"),
            ("NUMBER", "177"),
            ("NUMBER", "1.754"),
        }),
        48: ("Phó Chủ tịch UBND quận Hà Đông Phạm Thị Hòa", {
            ("ROLE", "Phó Chủ tịch UBND quận Hà Đông"),
            ("UNIT", "UBND quận Hà Đông"),
            ("PERSON", "Phạm Thị Hòa"),
            ("YEAR", "2021"),
            ("UNIT", "quận Hà Đông"),
            ("INDEX", "chỉ số nội dung"),
            ("INDEX", "Chỉ số PAPI"),
            ("UNIT", "quận"),  # "các phòng chuyên môn thuộc quận"
        }),
        50: ("Tương tự, UBND thị xã Sơn Tây", {
            ("UNIT", "UBND thị xã Sơn Tây"),
            ("NUMBER", "11"),
            ("UNIT", "UBND thị xã"),
            ("YEAR", "2021"),
            ("NUMBER", "15"),
            # "15 xã, phường": generic.
        }),
        52: ("Theo UBND thành phố Hà Nội, thời gian tới", {
            ("UNIT", "UBND thành phố Hà Nội"),
            ("UNIT", "Hà Nội"),
            ("LEGAL_DOC", "Nghị quyết số 76/NQ-CP"),
            ("UNIT", "Chính phủ"),
            ("LEGAL_DOC", "Chỉ thị số 23"),
            ("ROLE", "Thủ tướng Chính phủ"),
            # "Chương trình tổng thể CCHC nhà nước ...": a programme, unnumbered.
            ("YEAR", "2021"),
            ("YEAR", "2030"),
            ("UNIT", "Thành phố"),
            # "hướng tới sự hài lòng của người dân": a goal, not an INDEX.
        }),
    },
}

CASES = [(seed, line) for seed, lines in EXPECTED.items() for line in lines]


def test_every_seed_has_at_least_two_annotated_paragraphs():
    assert sorted(EXPECTED) == ["000", "001", "002", "003", "004"]
    for seed, lines in EXPECTED.items():
        assert len(lines) >= 2, seed


@pytest.mark.parametrize(("seed", "line"), CASES, ids=[f"{s}-L{n}" for s, n in CASES])
def test_paragraph_entities(seed, line):
    opening, expected = EXPECTED[seed][line]
    doc = seed_doc(seed)
    start, end = line_bounds(doc.text, line)
    assert doc.text[start:end].startswith(opening), f"line {line} of seed {seed} moved: {doc.text[start:end][:60]!r}"
    for label, surface in expected:
        assert surface in doc.text[start:end], f"annotation typo: {surface!r} not in line {line}"
    found = entities_in(doc, start, end)
    missing = sorted(expected - found)
    spurious = sorted(found - expected)
    assert found == expected, f"seed {seed} line {line}\n  missing:  {missing}\n  spurious: {spurious}"


# --------------------------------------------------------------------------
# Unit resolution: official codes

# (seed, mention as written, official district code). Codes are the GSO codes
# of vietnamadminunits' legacy table, verified with
# nlp.units.gazetteer().candidates(name, "district").
HANOI_DISTRICTS = [
    ("000", "quận Hai Bà Trưng", "007"),
    ("000", "huyện Ứng Hòa", "281"),
    ("004", "quận Hoàn Kiếm", "002"),
    ("004", "quận Cầu Giấy", "005"),
    ("004", "huyện Thường Tín", "279"),
    ("004", "quận Long Biên", "004"),
    ("004", "quận Hà Đông", "268"),
    ("004", "huyện Quốc Oai", "275"),
    ("004", "huyện Ba Vì", "271"),
    ("004", "huyện Mỹ Đức", "282"),
    ("004", "thị xã Sơn Tây", "269"),  # a "Huyện Sơn Tây" also exists in Quảng Ngãi (530)
]


def unit_spans_covering(doc, start: int, end: int):
    return [s for s in doc.spans["entities"] if s.label_ == "UNIT" and s.start_char <= start and s.end_char >= end]


def occurrences(text: str, mention: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(re.escape(mention), text, flags=re.IGNORECASE)]


@pytest.mark.parametrize(("seed", "mention", "code"), HANOI_DISTRICTS, ids=[m for _, m, _ in HANOI_DISTRICTS])
def test_hanoi_district_codes(seed, mention, code):
    doc = seed_doc(seed)
    occ = occurrences(doc.text, mention)
    assert occ, f"{mention!r} does not occur in seed {seed}"
    for start, end in occ:
        covering = unit_spans_covering(doc, start, end)
        where = f"{mention!r} at {start} in seed {seed}"
        assert covering, f"{where}: no UNIT span"
        codes = {s._.unit.code for s in covering if s._.unit is not None and s._.unit.code is not None}
        assert codes == {code}, f"{where}: codes {codes} on {[s.text for s in covering]}"
        for s in covering:
            if s._.unit is not None and s._.unit.code == code:
                assert s._.unit.admin.level == "district", s.text
                assert s._.unit.admin.province == HANOI, s.text
                assert s._.unit.province_name == HANOI, s.text


def test_tram_troi_resolves_to_its_ward_in_hoai_duc():
    doc = seed_doc("002")
    occ = occurrences(doc.text, "thị trấn Trạm Trôi")
    assert len(occ) >= 5
    for start, end in occ:
        covering = unit_spans_covering(doc, start, end)
        where = f"'thị trấn Trạm Trôi' at {start}"
        assert covering, f"{where}: no UNIT span"
        resolved = [s for s in covering if s._.unit is not None and s._.unit.code is not None]
        assert {s._.unit.code for s in resolved} == {"09832"}, f"{where}: {[s.text for s in covering]}"
        for s in resolved:
            admin = s._.unit.admin
            assert admin.level == "ward"
            assert admin.district == "Huyện Hoài Đức"
            assert admin.province == HANOI


# --------------------------------------------------------------------------
# A district name shared by ten provinces resolves by the document's context.

CHAU_THANH = [
    ("Sáng 12/9, UBND tỉnh Long An tổ chức hội nghị công bố chỉ số cải cách hành chính năm 2023. "
     "Chủ tịch UBND huyện Châu Thành cho biết huyện đã hoàn thành 95% kế hoạch.", "808", "Tỉnh Long An"),
    ("Chiều 3/10, HĐND tỉnh Bến Tre chất vấn về cải cách hành chính. "
     "Lãnh đạo UBND huyện Châu Thành cho biết huyện này đứng cuối bảng xếp hạng.", "831", "Tỉnh Bến Tre"),
    # province named after the district
    ("Năm 2022, huyện Châu Thành xếp thứ 3 về chỉ số cải cách hành chính của tỉnh Tiền Giang.",
     "821", "Tỉnh Tiền Giang"),
]


@pytest.mark.parametrize(("text", "code", "province"), CHAU_THANH, ids=["long-an", "ben-tre", "tien-giang-after"])
def test_shared_district_name_resolves_by_province_context(text, code, province):
    doc = text_doc(text)
    occ = occurrences(doc.text, "huyện Châu Thành")
    assert occ
    for start, end in occ:
        covering = unit_spans_covering(doc, start, end)
        assert covering, "no UNIT span on 'huyện Châu Thành'"
        codes = {s._.unit.code for s in covering if s._.unit is not None}
        assert codes == {code}, [(s.text, s._.unit) for s in covering]
        for s in covering:
            assert s._.unit.admin.province == province
            assert s._.unit.admin.level == "district"


def test_shared_district_name_without_context_stays_unresolved():
    doc = text_doc("Chủ tịch UBND huyện Châu Thành cho biết huyện đã hoàn thành 95% kế hoạch cải cách hành chính "
                   "năm 2023.")
    occ = occurrences(doc.text, "huyện Châu Thành")
    assert occ
    for start, end in occ:
        covering = unit_spans_covering(doc, start, end)
        assert covering, "'huyện Châu Thành' is still a UNIT, only unresolved"
        for s in covering:
            assert s._.unit is not None
            assert s._.unit.code is None, f"guessed {s._.unit.admin} without context"


@pytest.mark.parametrize("short,full", [
    ("UBND TP. Hà Nội", "Ủy ban nhân dân thành phố Hà Nội"),
    ("HĐND TP.Hà Nội", "Hội đồng nhân dân thành phố Hà Nội"),
    ("công tác CCHC, TTHC", "công tác cải cách hành chính, thủ tục hành chính"),
    ("Sở LĐTB&XH", "Sở Lao động - Thương binh và Xã hội"),
    ("Sở TT&TT", "Sở Thông tin và Truyền thông"),
])
def test_abbreviations_expand(short, full):
    from nlp.entities import expand_abbreviations
    assert expand_abbreviations(short) == full


def test_department_names_are_expanded_on_the_unit():
    doc = _nlp()("Tiêu đề\nGiám đốc Sở TT&TT Lê Bá Hùng cho biết Sở LĐTB&XH Hà Nội đã rà soát thủ tục hành chính.")
    names = {s.text: s._.unit.name for s in doc.spans["entities"] if s.label_ == "UNIT"}
    assert names["Sở TT&TT"] == "Sở Thông tin và Truyền thông"
    assert names["Sở LĐTB&XH Hà Nội"] == "Sở Lao động - Thương binh và Xã hội Hà Nội"


def test_hyphenated_ministry_abbreviations_are_ministries_reported_as_written_unless_spelled_out():
    doc = _nlp()("Tiêu đề\nBộ KH-ĐT và Bộ NN-PTNT chưa thống nhất cách phân bổ vốn cho các tỉnh.")
    units = {s.text: s._.unit for s in doc.spans["entities"] if s.label_ == "UNIT"}
    assert units["Bộ KH-ĐT"].kind == "ministry" and units["Bộ KH-ĐT"].name == "Bộ Kế hoạch và Đầu tư"
    assert units["Bộ KH-ĐT"].written == "Bộ KH-ĐT"             # the text never spells it out
    assert units["Bộ NN-PTNT"].name == "Bộ Nông nghiệp và Phát triển nông thôn"
    spelled = _nlp()("Tiêu đề\nBộ Kế hoạch và Đầu tư (KH-ĐT) đã trình đề án. Bộ KH-ĐT sẽ rà soát lại danh mục dự án.")
    later = next(s for s in spelled.spans["entities"] if s.label_ == "UNIT" and s.text == "Bộ KH-ĐT")
    assert later._.unit.written is None and later._.unit.name == "Bộ Kế hoạch và Đầu tư"


def test_e_government_and_slogans_are_not_the_government():
    doc = _nlp()("Tiêu đề\nSở đã triển khai Chính phủ điện tử và Chính phủ số theo tinh thần Chính phủ hành động. "
                 "Chính phủ yêu cầu các bộ rà soát thủ tục.")
    units = [s.text for s in doc.spans["entities"] if s.label_ == "UNIT"]
    assert units.count("Chính phủ") == 1   # only the Government that asks


def test_a_party_committee_followed_by_its_territory_is_one_unit_of_that_territory():
    doc = _nlp()("Tiêu đề\nBí thư Thành ủy TP HCM làm việc với Quận ủy quận 7 về cải cách hành chính.")
    units = {s.text: s._.unit for s in doc.spans["entities"] if s.label_ == "UNIT"}
    assert units["Thành ủy TP HCM"].code == "79"
    assert units["Quận ủy quận 7"].name == "quận 7"


def test_a_bare_district_refers_to_the_last_district_named_even_when_the_gazetteer_does_not_know_it():
    doc = _nlp()("Tiêu đề\nHuyện Bình Chánh có nhiều dự án. Lãnh đạo quận 2 cho biết, năm qua quận đã giảm thủ tục.")
    bare = next(s for s in doc.spans["entities"] if s.label_ == "UNIT" and s.text == "quận")
    assert bare._.unit.name == "quận 2"   # not huyện Bình Chánh, the last district the gazetteer knows


def test_a_city_written_with_its_type_word_run_in_is_that_city():
    doc = _nlp()("Tiêu đề\nPhó Chủ tịch UBND TPHCM cho biết, UBND TPHCM sẽ rà soát thủ tục.")
    units = [s._.unit for s in doc.spans["entities"] if s.label_ == "UNIT" and s.text == "UBND TPHCM"]
    assert units and all(u.code == "79" and u.written == "TPHCM" for u in units)
