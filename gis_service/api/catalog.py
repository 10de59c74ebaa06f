"""The feature collections the service publishes, and the SQL that reads them.

Identifiers in SQL come only from this catalog; values from requests are always
bound parameters.  Every collection is a SELECT with the columns ``id``, ``geom``
and its properties, so the items, single-feature and tile queries are built the
same way for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gis_service.store.boundaries import in_force_sql

PropertyType = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True)
class Property:
    """One published property: its name, SQL type and Chinese title."""

    name: str
    type: PropertyType
    title: str
    queryable: bool = True


@dataclass(frozen=True)
class Collection:
    """A published layer.

    ``source`` is a SELECT returning ``id``, ``geom`` (EPSG:4326) and the properties;
    ``table`` is the table whose row count sizes the layer (for extents).
    """

    id: str
    title: str
    description: str
    table: str
    source: str
    properties: tuple[Property, ...]
    geometry_type: str
    keywords: tuple[str, ...] = field(default=())

    def property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)


_QUALITY = Property("geometry_quality", "string", "几何质量 (surveyed/approximate/synthetic)")
_SOURCE = Property("source_document", "string", "来源文件", queryable=False)

PARKS = Collection(
    id="parks",
    title="产业园区",
    description="园区及其地块的现行边界 (current boundary versions); approximate boundaries are flagged "
    "in geometry_quality.",
    table="park_boundary",
    source=f"""
        SELECT p.id, p.code, p.name, p.kind::text AS kind, p.parent_id,
               b.geometry_quality::text AS geometry_quality, b.method, b.valid_from::text AS valid_from,
               b.source_document, b.source_section, b.geom
        FROM park p
        LEFT JOIN park_boundary b ON b.park_id = p.id AND {in_force_sql('b', on='CURRENT_DATE')}
    """,
    properties=(
        Property("code", "string", "编码"),
        Property("name", "string", "名称"),
        Property("kind", "string", "类型 (park/block)"),
        Property("parent_id", "integer", "上级园区"),
        _QUALITY,
        Property("method", "string", "边界生成方法", queryable=False),
        Property("valid_from", "string", "生效日期", queryable=False),
        _SOURCE,
        Property("source_section", "string", "来源章节", queryable=False),
    ),
    geometry_type="MultiPolygon",
)

ZONES = Collection(
    id="zones",
    title="规划分区 (一廊九区、三片)",
    description="The G60 corridor, its nine areas and the 三片; extents are approximate.",
    table="zone",
    source="""
        SELECT z.id, z.code, z.name, z.kind::text AS kind, z.parent_id,
               z.geometry_quality::text AS geometry_quality, z.note, z.source_document, z.source_section, z.geom
        FROM zone z
    """,
    properties=(
        Property("code", "string", "编码"),
        Property("name", "string", "名称"),
        Property("kind", "string", "类型 (corridor/corridor_area/pian)"),
        Property("parent_id", "integer", "上级分区"),
        _QUALITY,
        Property("note", "string", "说明", queryable=False),
        _SOURCE,
        Property("source_section", "string", "来源章节", queryable=False),
    ),
    geometry_type="MultiPolygon",
)

TOWNS = Collection(
    id="towns",
    title="镇、街道",
    description="The 11 towns (镇) and 6 sub-districts (街道) of Songjiang.",
    table="town",
    source="""
        SELECT t.id, t.name, t.kind, t.geometry_quality::text AS geometry_quality,
               t.source_document, t.source_section, t.geom
        FROM town t
    """,
    properties=(
        Property("name", "string", "名称"),
        Property("kind", "string", "类型 (镇/街道)"),
        _QUALITY,
        _SOURCE,
        Property("source_section", "string", "来源章节", queryable=False),
    ),
    geometry_type="MultiPolygon",
)

ROADS = Collection(
    id="roads",
    title="道路、河道与界线",
    description="Roads, expressways, rivers and boundary lines that 四至 texts name.",
    table="road",
    source="""
        SELECT r.id, r.name, r.kind, r.geometry_quality::text AS geometry_quality, r.source_document, r.geom
        FROM road r
    """,
    properties=(
        Property("name", "string", "名称"),
        Property("kind", "string", "类型"),
        _QUALITY,
        _SOURCE,
    ),
    geometry_type="MultiLineString",
)

PARCELS = Collection(
    id="parcels",
    title="用地地块",
    description=(
        "Land records: survey patches (layer=survey, one snapshot per year: import_year), supplied parcels "
        "(layer=supply, 电子监管号, contract date) and register parcels (layer=register); synthetic (demo) "
        "records are flagged is_synthetic."
    ),
    table="land_parcel",
    source="""
        SELECT l.id, l.layer, i.year AS import_year, l.external_id, l.land_use_code, l.code_system, l.land_use_name,
               l.land_use_class, l.is_supplied, l.supply_year, l.is_built, l.supervision_no, l.contract_date,
               l.recovery_date, l.is_synthetic, l.source_document, l.geom
        FROM land_parcel l LEFT JOIN land_import i ON i.id = l.import_id
    """,
    properties=(
        Property("layer", "string", "土地数据类型(survey 现状调查 / supply 供地 / register 地块登记)"),
        Property("import_year", "integer", "现状调查年份"),
        Property("code_system", "string", "分类体系(sandiao/guotu/gb50137)"),
        Property("land_use_name", "string", "地类/用途名称"),
        Property("supervision_no", "string", "电子监管号"),
        Property("contract_date", "string", "合同签订日期"),
        Property("recovery_date", "string", "收回日期"),
        Property("external_id", "string", "外部编号"),
        Property("land_use_code", "string", "用地代码"),
        Property("land_use_class", "string", "用地类别"),
        Property("is_supplied", "boolean", "是否已供应"),
        Property("supply_year", "integer", "供地年份"),
        Property("is_built", "boolean", "是否建成"),
        Property("is_synthetic", "boolean", "是否合成数据"),
        _SOURCE,
    ),
    geometry_type="MultiPolygon",
)

COLLECTIONS: dict[str, Collection] = {c.id: c for c in (PARKS, ZONES, TOWNS, ROADS, PARCELS)}
