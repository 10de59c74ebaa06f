"""Land-use code crosswalk: the same digits under 三调 and 国土空间, letters, names, detection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_service.errors import InputError
from gis_service.ingest.land.codes import (
    CLASS_LABELS_ZH,
    CODE_SYSTEMS,
    GB50137,
    GUOTU,
    LAND_USE_CLASSES,
    SANDIAO,
    SYSTEM_LABELS_ZH,
    AmbiguousCodeSystemError,
    CodeNameMismatchError,
    UnknownCodeSystemError,
    UnknownLandCodeError,
    class_of_name,
    classify,
    detect_code_system,
    lookup,
)


def _feature(i: int) -> str:
    return f"DLTB.shp layer DLTB feature {i} (BSM 31011700{i:02d})"


def _class(code: object, system: str) -> tuple[str, bool]:
    found = lookup(code, system)
    assert found is not None, f"{code!r} unknown under {system}"
    return found.land_use_class, found.is_built_up


@pytest.mark.parametrize(
    ("code", "sandiao", "guotu"),
    [
        ("0601", ("industrial", "工业用地"), ("transport", "乡村道路用地")),
        ("1001", ("transport", "铁路用地"), ("industrial", "工业用地")),
        ("1101", ("water", "河流水面"), ("logistics_warehouse", "物流仓储用地")),
    ],
)
def test_the_same_digits_mean_different_land_under_each_system(
    code: str, sandiao: tuple[str, str], guotu: tuple[str, str]
) -> None:
    for system, (land_use_class, name) in ((SANDIAO, sandiao), (GUOTU, guotu)):
        found = lookup(code, system)
        assert found is not None
        assert (found.land_use_class, found.name_zh, found.system, found.code) == (land_use_class, name, system, code)


@pytest.mark.parametrize(
    ("code", "system", "built_up"),
    [
        ("0101", SANDIAO, False),  # 水田
        ("0601", SANDIAO, True),  # 工业用地
        ("1006", SANDIAO, False),  # 农村道路: 农用地
        ("1109", SANDIAO, True),  # 水工建筑用地
        ("1201", SANDIAO, True),  # 空闲地
        ("1202", SANDIAO, False),  # 设施农用地: 农用地
        ("1107", SANDIAO, False),  # 沟渠: 农用地
        ("1103", SANDIAO, True),  # 水库水面: 建设用地 in the three groups
        ("0603", SANDIAO, True),  # 盐田
        ("0601", GUOTU, False),  # 乡村道路用地 (农业设施建设用地)
        ("0602", GUOTU, False),
        ("1001", GUOTU, True),
        ("16", GUOTU, True),  # 留白用地
        ("2301", GUOTU, True),  # 空闲地
        ("2302", GUOTU, False),  # 田坎
        ("1701", GUOTU, False),
        ("E1", GB50137, False),
        ("H5", GB50137, True),
    ],
)
def test_built_up_flags(code: str, system: str, built_up: bool) -> None:
    assert _class(code, system)[1] is built_up


def test_only_industrial_land_is_industrial() -> None:
    assert _class("0602", SANDIAO) == ("mining", True)
    assert _class("0603", SANDIAO) == ("mining", True)
    assert _class("1002", GUOTU) == ("mining", True)
    assert _class("100102", GUOTU) == ("industrial", True)
    assert _class("0508", SANDIAO) == ("logistics_warehouse", True)
    assert _class("0604", SANDIAO) == ("logistics_warehouse", True)  # GB/T 21010-2017 仓储用地
    assert _class("05H1", SANDIAO) == ("commercial", True)


def test_numbers_that_lost_their_leading_zero() -> None:
    assert lookup(601, SANDIAO).code == "0601"  # type: ignore[union-attr]
    assert lookup(101.0, SANDIAO).code == "0101"  # type: ignore[union-attr]
    assert lookup(np.int64(702), SANDIAO).code == "0702"  # type: ignore[union-attr]
    assert lookup("601", SANDIAO).code == "0601"  # type: ignore[union-attr]
    assert lookup("0601.0", SANDIAO).code == "0601"  # type: ignore[union-attr]
    assert lookup(60101, GUOTU).code == "060101"  # type: ignore[union-attr]
    assert lookup(1001, GUOTU).land_use_class == "industrial"  # type: ignore[union-attr]
    assert lookup(" 05h1 ", SANDIAO).code == "05H1"  # type: ignore[union-attr]
    assert lookup(601.5, SANDIAO) is None
    assert lookup(None, SANDIAO) is None
    result = classify(np.array([601.0, 1001.0, 101.0]), SANDIAO, where=_feature)
    assert list(result.code) == ["0601", "1001", "0101"]
    assert list(result.land_use_class) == ["industrial", "transport", "agricultural"]


@pytest.mark.parametrize(
    ("code", "land_use_class", "built_up", "normalised"),
    [
        ("M1", "industrial", True, "M1"),
        ("m2", "industrial", True, "M2"),
        ("W1", "logistics_warehouse", True, "W1"),
        ("H5", "mining", True, "H5"),
        ("H21", "transport", True, "H21"),
        ("H3", "utilities", True, "H3"),
        ("E1", "water", False, "E1"),
        ("E2", "agricultural", False, "E2"),
        ("B11", "commercial", True, "B11"),
        ("A33", "public_service", True, "A33"),
        ("R2a", "residential", True, "R2a"),
        ("G1", "green_open_space", True, "G1"),
    ],
)
def test_gb50137_letter_codes(code: str, land_use_class: str, built_up: bool, normalised: str) -> None:
    found = lookup(code, GB50137)
    assert found is not None
    assert (found.land_use_class, found.is_built_up, found.code) == (land_use_class, built_up, normalised)


@pytest.mark.parametrize("code", ["H", "E", "H7", "E3", "X1", "M123", "0601"])
def test_gb50137_refuses_codes_without_a_class(code: str) -> None:
    assert lookup(code, GB50137) is None


def test_unknown_code_names_the_feature_and_the_code() -> None:
    with pytest.raises(UnknownLandCodeError, match=r"^DLTB.shp layer DLTB feature 2 \(BSM 3101170002\): "
                                                   r"land-use code '9999' is not a 三调工作分类") as info:
        classify(["0601", "0101", "9999", "8888", "9999"], SANDIAO, where=_feature)
    assert isinstance(info.value, InputError)


def test_missing_code_is_refused_at_its_position() -> None:
    with pytest.raises(UnknownLandCodeError, match=r"feature 1 .*: land-use code None is not .*: the code is missing"):
        classify(pd.Series(["0601", None, "0101"]), SANDIAO, where=_feature)
    with pytest.raises(UnknownLandCodeError, match=r"feature 3 .*missing"):
        classify(np.array([601.0, 101.0, 1001.0, np.nan]), SANDIAO, where=_feature)


def test_a_code_of_the_other_system_says_so() -> None:
    with pytest.raises(UnknownLandCodeError, match=r"'100101' is not a 三调工作分类 .*一类工业用地 under 国土空间"):
        classify(["0601", "100101"], SANDIAO, where=_feature)


def test_bare_gongkuang_is_refused_under_guotu() -> None:
    with pytest.raises(UnknownLandCodeError, match=r"feature 0 .*land-use code '10' is not a 国土空间.*code by itself: "
                                                   r".*1001 工业用地.*1002 采矿用地 / 1003 盐田"):
        classify(["10", "1001"], GUOTU, where=_feature)
    assert lookup("10", GUOTU) is None
    assert lookup("06", SANDIAO) is None  # 工矿用地 under 三调 likewise spans 工业 and 采矿


def test_first_level_codes_are_classified_when_their_sub_codes_agree() -> None:
    assert _class("07", GUOTU) == ("residential", True)
    assert _class("11", GUOTU) == ("logistics_warehouse", True)
    assert _class("01", SANDIAO) == ("agricultural", False)
    assert _class(7, GUOTU) == ("residential", True)
    assert lookup("17", GUOTU) is None  # 水库水面 is 建设用地, the other 陆地水域 are not
    assert lookup("06", GUOTU) is None  # roads and farm facilities


def test_class_name_contradicting_the_code() -> None:
    with pytest.raises(CodeNameMismatchError, match=r"^DLTB.shp layer DLTB feature 1 \(BSM 3101170001\): code '0601' "
                                                    r"means 工业用地 under 三调工作分类 \(GB/T 21010-2017\) "
                                                    r"but the class name says '铁路用地'$") as info:
        classify(["0601", "0601", "1001"], SANDIAO, names=["工业用地", "铁路用地", "铁路用地"], where=_feature)
    assert isinstance(info.value, InputError)


def test_class_names_are_compared_leniently() -> None:
    result = classify(
        ["0601", "0601", "0601", "0601", 601, "1001", "0201K", "0810A"],
        SANDIAO,
        names=["工业用地", " 工业 用地 ", "工业", "工矿用地", None, "铁路用地", "可调整果园", "广场用地"],
        where=_feature,
    )
    assert list(result.land_use_class[:5]) == ["industrial"] * 5
    guotu = classify(["100101", "1001", "1001", "0601", "1207"], GUOTU,
                     names=["一类工业用地", "一类工业用地", "工矿用地", "农村道路", "城镇村道路用地"], where=_feature)
    assert list(guotu.name_zh) == ["一类工业用地", "工业用地", "工业用地", "乡村道路用地", "城镇道路用地"]
    gb = classify(["M1", "M"], GB50137, names=["工业用地", "工业"], where=_feature)
    assert list(gb.land_use_class) == ["industrial", "industrial"]


def test_classify_returns_aligned_arrays() -> None:
    result = classify(pd.Series(["0601", "05h1", "1006", "0601"], index=[10, 11, 12, 13]), SANDIAO, where=_feature)
    assert list(result.code) == ["0601", "05H1", "1006", "0601"]
    assert list(result.name_zh) == ["工业用地", "商业服务业设施用地", "农村道路", "工业用地"]
    assert result.is_built_up.dtype == bool
    assert list(result.is_built_up) == [True, True, False, True]


def test_classify_a_million_codes() -> None:
    distinct = ["0101", "0102", "0201", "0301", "0601", "0602", "0701", "0702", "05H1", "0508", "08H1", "08H2",
                "0809", "0810", "1001", "1004", "1006", "1101", "1104A", "1107", "1109", "1201", "1202", "0201K",
                "0603"]
    per_code = 1_000_000 // len(distinct)  # 40,000 each
    codes = np.repeat(np.array(distinct, dtype=object), per_code)
    meanings = [lookup(c, SANDIAO) for c in distinct]
    names = np.repeat(np.array([m.name_zh for m in meanings if m], dtype=object), per_code)
    result = classify(codes, SANDIAO, names=names, where=_feature)
    assert len(result.land_use_class) == len(result.is_built_up) == len(result.code) == 1_000_000
    counts = pd.Series(result.land_use_class).value_counts()
    assert counts["industrial"] == per_code
    assert counts["mining"] == 2 * per_code
    assert counts["transport"] == 3 * per_code
    assert int(result.is_built_up.sum()) == per_code * sum(m.is_built_up for m in meanings if m)
    assert result.code[per_code * 4] == "0601" and result.code[per_code * 5 - 1] == "0601"
    assert result.land_use_class[-1] == "mining"


def test_detect_by_dltb_fields() -> None:
    choice = detect_code_system(["BSM", "dlbm", "DLMC", "geometry"], ["0601", "1001"])
    assert choice.system == SANDIAO
    assert choice.evidence == "fields dlbm, DLMC (三调 DLTB layer)"


def test_detect_by_letters() -> None:
    assert detect_code_system(["YDDM"], ["M1", "w1", "R2", None]).system == GB50137
    with pytest.raises(AmbiguousCodeSystemError, match=r"mix GB 50137 letter codes \('M1'\) and digit codes \('0601'\)"):
        detect_code_system(["YDDM"], ["M1", "0601"])


def test_detect_by_codes_only_one_system_has() -> None:
    choice = detect_code_system(["CODE"], ["0601", "1001", "05H1"])
    assert choice.system == SANDIAO
    assert "'05H1'" in choice.evidence
    assert detect_code_system(["CODE"], ["0601", 100101]).system == GUOTU
    assert detect_code_system(["CODE"], ["0101", "1004"]).system == SANDIAO  # 国土空间 has no 1004
    with pytest.raises(AmbiguousCodeSystemError, match=r"contradict.*'05H1'.*'100101'"):
        detect_code_system(["CODE"], ["05H1", "100101"])
    with pytest.raises(AmbiguousCodeSystemError, match=r"'9999' is a code of neither"):
        detect_code_system(["CODE"], ["0601", "9999"])


def test_ambiguous_codes_are_refused_with_both_readings() -> None:
    with pytest.raises(AmbiguousCodeSystemError) as info:
        detect_code_system(["CODE"], ["0101", "0601", "1001"])
    message = str(info.value)
    assert message.startswith("codes are ambiguous: '0601' is 工业用地 under 三调工作分类 (GB/T 21010-2017) "
                              "but 乡村道路用地 under 国土空间调查、规划、用途管制用地用海分类")
    assert "--code-system sandiao|guotu|gb50137" in message
    with pytest.raises(AmbiguousCodeSystemError, match="no land-use codes"):
        detect_code_system(["CODE"], [None, ""])


def test_detect_by_class_names() -> None:
    choice = detect_code_system(["CODE", "NAME"], ["0601", "1001"], names=["工业用地", "铁路用地"])
    assert choice.system == SANDIAO
    assert detect_code_system(["CODE", "NAME"], ["0601", "1001"], names=["乡村道路用地", "工业用地"]).system == GUOTU
    with pytest.raises(AmbiguousCodeSystemError, match="'0601' is 工业用地"):
        detect_code_system(["CODE", "NAME"], ["0601"], names=["商业用地"])  # agrees with neither


@pytest.mark.parametrize(
    ("declared", "system"),
    [("三调", SANDIAO), ("sandiao", SANDIAO), ("gbt21010", SANDIAO), ("GB/T 21010", SANDIAO), ("国土空间", GUOTU),
     ("guotu", GUOTU), ("gb50137", GB50137), ("GB 50137", GB50137)],
)
def test_declared_system_wins(declared: str, system: str) -> None:
    choice = detect_code_system(["DLBM"], ["M1"], declared=declared)
    assert choice.system == system
    assert declared in choice.evidence


def test_unknown_declared_system_lists_the_accepted_ones() -> None:
    with pytest.raises(UnknownCodeSystemError, match=r"'GB 50220'.*sandiao.*guotu.*gb50137") as info:
        detect_code_system([], ["0601"], declared="GB 50220")
    assert isinstance(info.value, InputError)
    with pytest.raises(UnknownCodeSystemError):
        lookup("0601", "tdt1055")


@pytest.mark.parametrize(
    ("name", "land_use_class"),
    [
        ("工业用地", "industrial"),
        ("工矿仓储用地-工业用地", "industrial"),
        ("一类工业用地", "industrial"),
        ("工业用地（标准厂房）", "industrial"),
        ("仓储用地", "logistics_warehouse"),
        ("工矿仓储用地-仓储用地", "logistics_warehouse"),
        ("物流仓储用地", "logistics_warehouse"),
        ("商服用地", "commercial"),
        ("其他商服用地", "commercial"),
        ("商务金融用地", "commercial"),
        ("住宅用地", "residential"),
        ("城镇住宅用地", "residential"),
        ("采矿用地", "mining"),
        ("工矿仓储用地", None),
        ("工业、仓储用地", None),
        ("商住用地", None),
        ("新型产业用地(M0)", None),
        ("科研设计用地", None),
        ("行政办公用地", None),
        ("公共设施用地", None),
        ("", None),
    ],
)
def test_class_of_name(name: str, land_use_class: str | None) -> None:
    assert class_of_name(name) == land_use_class


def test_vocabulary() -> None:
    assert LAND_USE_CLASSES[:3] == ("industrial", "mining", "logistics_warehouse")
    assert set(CLASS_LABELS_ZH) == set(LAND_USE_CLASSES)
    assert CLASS_LABELS_ZH["industrial"] == "工业用地"
    assert set(SYSTEM_LABELS_ZH) == set(CODE_SYSTEMS) == {"sandiao", "guotu", "gb50137"}
