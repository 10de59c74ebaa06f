"""Sources as people cite them: document title and section, never the stored file names.

The stored figures name their source by the file it was read from and the section
(``004_a9d02975ccfca6ed.txt 附件 …``, see ``shared/seeds/README.md``); pages show the
document's title instead.  Basis sources and missing reasons are written for machines
(``∩ park_boundary 8``, ``no supplied_industrial_land area``); pages say them in Chinese.
"""

from __future__ import annotations

import math
import re

from gis_service.metrics.bases import (
    BASIS_LABELS_ZH,
    MEASURED_AREA,
    PARCEL_BASES,
    PUBLISHED_AREA,
)
from gis_service.metrics.density import NUMERATORS

#: number of a source file (its name starts with it) -> the document's title
SOURCE_TITLES_ZH = {
    "000": "《松江区先进制造业高质量发展“十四五”规划》(提纲)",
    "001": "《松江区先进制造业高质量发展“十四五”规划》(沪松府〔2021〕299号)",
    "002": "《松江区全力打响“上海制造”品牌 打造先进制造业新高地三年行动计划(2021-2023年)》(沪松府〔2022〕11号)",
    "003": "《上海市先进制造业发展“十四五”规划》(沪府办发〔2021〕12号)",
    "004": "《上海张江高新技术产业开发区松江园“十四五”规划》",
}
_FILE = re.compile(r"\b(\d{3})_[0-9a-f]{16}\.txt\b")


def source_zh(text: object) -> str:
    """``text`` with every source file name replaced by its document's title."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return _FILE.sub(lambda m: SOURCE_TITLES_ZH.get(m.group(1), m.group(0)), str(text)).strip()


def basis_source_zh(text: object, basis: str) -> str:
    """Where the area of ``basis`` comes from, in Chinese (the stored text is for machines)."""
    if basis == PUBLISHED_AREA:
        return source_zh(text)
    if basis == MEASURED_AREA:
        return "园区现行边界在 EPSG:4549 下量算"
    if basis in PARCEL_BASES:
        land = str(text or "").split(":", 1)[-1].split("∩")[0].strip()
        covered = "" if "no parcel" not in str(text) else ";土地数据未覆盖该园区"
        return f"{BASIS_LABELS_ZH[basis]}:{land or '无土地数据'} 与园区边界相交,在 EPSG:4549 下量算{covered}"
    return source_zh(text)


_NO_AREA = re.compile(r"no (\w+) area")
_NO_FIGURE = re.compile(r"no (\w+) figure")


def missing_reason_zh(reason: object) -> str:
    """Why a density is missing, in Chinese: "no output figure" -> "无产值数据"."""
    text = str(reason or "")
    if not text:
        return ""
    parts = []
    if (m := _NO_FIGURE.search(text)) is not None:
        parts.append(f"无{NUMERATORS[m.group(1)].label_zh if m.group(1) in NUMERATORS else m.group(1)}数据")
    if (m := _NO_AREA.search(text)) is not None:
        parts.append(f"无{BASIS_LABELS_ZH.get(m.group(1), m.group(1))}面积")
    if "no park lies in this area" in text:
        parts.append("区内无园区")
    return "、".join(parts) or text
