"""ParLens explorer: `streamlit run app.py`.

The store is $PARLENS_DB (else the user data directory); when it is missing or
empty it is built from the bundled corpus on first start, with progress bars.
"""
import streamlit as st

from nlp.embeddings import describe_precision, precision_report
from parlens import appstate

st.set_page_config(page_title="ParLens · Cải cách hành chính", page_icon=appstate.icon(),
                   layout="wide")

page = st.navigation({
    "Khám phá · Explore": [
        st.Page("parlens/pages/search.py", title="Tìm kiếm · Search", icon=":material/search:",
                url_path="search", default=True),
        st.Page("parlens/pages/why_low.py", title="Vì sao xếp hạng thấp · Why low", icon=":material/trending_down:",
                url_path="why-low"),
        st.Page("parlens/pages/themes.py", title="Hạn chế lặp lại · Recurring weaknesses",
                icon=":material/repeat:", url_path="themes"),
        st.Page("parlens/pages/figures.py", title="Số liệu · Figures", icon=":material/monitoring:",
                url_path="figures"),
        st.Page("parlens/pages/units.py", title="Đơn vị · Units", icon=":material/location_city:",
                url_path="units"),
        st.Page("parlens/pages/sessions.py", title="Phiên chất vấn · Sessions", icon=":material/forum:",
                url_path="sessions"),
        st.Page("parlens/pages/documents.py", title="Văn bản · Documents", icon=":material/article:",
                url_path="documents"),
    ],
    "Dữ liệu · Data": [
        st.Page("parlens/pages/add.py", title="Thêm văn bản · Add documents", icon=":material/upload_file:",
                url_path="add"),
    ],
})
appstate.style()
appstate.ensure_store(appstate.db_path())
appstate.sidebar_status(appstate.db_path())
st.sidebar.caption(describe_precision(precision_report(measure_if_missing=False)))
page.run()
