"""The PostGIS schema as SQLAlchemy 2 / GeoAlchemy2 models.

The models describe the schema; only the Alembic migrations in
``gis_service/db/migrations`` create it.  Every geometry is stored in EPSG:4326
(WGS84); GCJ-02 data is converted before it gets here.

Vocabulary:
- 四至 (sizhi): the four-sided limits of an area, "东至…,南至…,西至…,北至…".
- 一廊九区: the G60 科创走廊 (corridor) and its nine industrial function areas.
- 三片: the district's three sub-areas, each a union of towns (片 = sub-area).
- 预期性 / 约束性: "expected" (indicative) / "binding" plan targets.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SRID = 4326


def _enum(py_enum: type[enum.Enum], name: str) -> Enum:
    """Store the enum's *values* (readable in SQL), not its member names."""
    return Enum(py_enum, name=name, values_callable=lambda e: [m.value for m in e])


class GeometryQuality(str, enum.Enum):
    surveyed = "surveyed"
    approximate = "approximate"
    synthetic = "synthetic"


class ZoneKind(str, enum.Enum):
    corridor = "corridor"  # the G60 科创走廊 itself
    corridor_area = "corridor_area"  # one of the 九区 of 一廊九区
    pian = "pian"  # one 片 of 三片


class ParkKind(str, enum.Enum):
    park = "park"  # e.g. 张江高新区松江园
    block = "block"  # one of its 园区/地块


class TargetNature(str, enum.Enum):
    expected = "预期性"
    binding = "约束性"


class Role(str, enum.Enum):
    viewer = "viewer"
    park_manager = "park_manager"
    analyst = "analyst"
    admin = "admin"


class Base(DeclarativeBase):
    pass


class SourcedMixin:
    """Provenance of a row: the document (file name in shared/seeds or a survey) and its section."""

    source_document: Mapped[str] = mapped_column(Text)
    source_section: Mapped[str | None] = mapped_column(Text)


class District(SourcedMixin, Base):
    __tablename__ = "district"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adcode: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    geometry_quality: Mapped[GeometryQuality] = mapped_column(_enum(GeometryQuality, "geometry_quality"))
    note: Mapped[str | None] = mapped_column(Text)


class Town(SourcedMixin, Base):
    """A 镇 (town) or 街道 (sub-district) of the district."""

    __tablename__ = "town"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # 镇 | 街道
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    geometry_quality: Mapped[GeometryQuality] = mapped_column(_enum(GeometryQuality, "geometry_quality"))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("kind IN ('镇', '街道')", name="town_kind"),)


class Zone(SourcedMixin, Base):
    """A planning zone: the G60 corridor, one of its nine areas, or one 片 of 三片."""

    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[ZoneKind] = mapped_column(_enum(ZoneKind, "zone_kind"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"))
    geom: Mapped[Any | None] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    centerline: Mapped[Any | None] = mapped_column(Geometry("MULTILINESTRING", srid=SRID, spatial_index=False))
    geometry_quality: Mapped[GeometryQuality] = mapped_column(_enum(GeometryQuality, "geometry_quality"))
    note: Mapped[str | None] = mapped_column(Text)

    towns: Mapped[list[ZoneTown]] = relationship(back_populates="zone", cascade="all, delete-orphan")


class ZoneTown(SourcedMixin, Base):
    """Membership of a town in a zone (三片 are defined as unions of towns, 001 四(二)3)."""

    __tablename__ = "zone_town"

    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id", ondelete="CASCADE"), primary_key=True)

    zone: Mapped[Zone] = relationship(back_populates="towns")


class Park(Base):
    """An industrial park, or a block (园区) of a parent park."""

    __tablename__ = "park"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[ParkKind] = mapped_column(_enum(ParkKind, "park_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("park.id", ondelete="RESTRICT"), index=True)
    note: Mapped[str | None] = mapped_column(Text)

    parent: Mapped[Park | None] = relationship(remote_side=[id], back_populates="blocks")
    blocks: Mapped[list[Park]] = relationship(back_populates="parent")
    boundaries: Mapped[list[ParkBoundary]] = relationship(back_populates="park", cascade="all, delete-orphan")


class ParkBoundary(SourcedMixin, Base):
    """One version of a park's boundary, valid over ``[valid_from, valid_to)``.

    A boundary change adds a version and closes the previous one; history is never
    overwritten.  An exclusion constraint forbids overlapping validity for a park.
    """

    __tablename__ = "park_boundary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id", ondelete="CASCADE"), index=True)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    geometry_quality: Mapped[GeometryQuality] = mapped_column(_enum(GeometryQuality, "geometry_quality"))
    method: Mapped[str | None] = mapped_column(Text)  # e.g. "built from 四至 over approximate roads"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    park: Mapped[Park] = relationship(back_populates="boundaries")

    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="boundary_validity_order"),
        CheckConstraint("ST_IsValid(geom)", name="boundary_geom_valid"),
    )


class Sizhi(SourcedMixin, Base):
    """The 四至 (four-sided limits) of a park: the text as published and its parsed structure."""

    __tablename__ = "sizhi"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id", ondelete="CASCADE"), unique=True)
    raw_text: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Indicator(SourcedMixin, Base):
    """A yearly figure of one scope (district, town, zone or park), always with its source.

    Exactly one of the scope columns is set.  ``value`` is as published in ``unit``;
    a missing figure is not stored (never a 0).  ``version`` increments on each update
    (optimistic concurrency: ETag / If-Match).
    """

    __tablename__ = "indicator"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    metric_code: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal] = mapped_column(Numeric)
    unit: Mapped[str] = mapped_column(String(32))
    is_projection: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(district_id, town_id, zone_id, park_id) = 1", name="indicator_one_scope"
        ),
        CheckConstraint("year BETWEEN 1949 AND 2100", name="indicator_year_range"),
        Index(
            "uq_indicator_scope_year_metric",
            func.coalesce(district_id, 0),
            func.coalesce(town_id, 0),
            func.coalesce(zone_id, 0),
            func.coalesce(park_id, 0),
            year,
            metric_code,
            is_projection,
            unique=True,
        ),
    )


class Target(SourcedMixin, Base):
    """A plan target (or a reference baseline) for a scope, metric and year.

    ``scope`` names what the target is for: ``songjiang`` (the district), ``shanghai``,
    or a park code.  ``basis`` names the denominator of a density target, e.g.
    ``supplied_industrial_land`` for 001 表1 #9.
    """

    __tablename__ = "target"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    metric_code: Mapped[str] = mapped_column(String(64))
    basis: Mapped[str | None] = mapped_column(String(64))
    base_year: Mapped[int | None] = mapped_column(Integer)
    base_value: Mapped[Decimal | None] = mapped_column(Numeric)
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[Decimal | None] = mapped_column(Numeric)
    value_text: Mapped[str | None] = mapped_column(Text)  # targets published as text, e.g. "≥500"
    unit: Mapped[str] = mapped_column(String(32))
    nature: Mapped[TargetNature | None] = mapped_column(_enum(TargetNature, "target_nature"))
    note: Mapped[str | None] = mapped_column(Text)


LAND_LAYERS_SQL = "('survey', 'supply', 'register')"


class LandImport(Base):
    """One import of land data: a land-use survey snapshot (``kind='survey'``, one per year),
    a batch of land supply records (``supply``) or a parcel register (``register``).

    It records what was read (file, layer, driver, code system, CRS, encoding), how many
    features, the area by class (km², EPSG:4549) and the report (overlaps, area mismatches).
    """

    __tablename__ = "land_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int | None] = mapped_column(Integer)
    source_document: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    layer_name: Mapped[str | None] = mapped_column(Text)
    driver: Mapped[str | None] = mapped_column(Text)
    code_system: Mapped[str | None] = mapped_column(String(16))
    crs: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(Text)
    feature_count: Mapped[int] = mapped_column(Integer)
    area_by_class: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    imported_by: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"kind IN {LAND_LAYERS_SQL}", name="land_import_kind"),
        CheckConstraint("(kind = 'survey') = (year IS NOT NULL)", name="land_import_survey_year"),
        Index("ux_land_import_survey_year", "year", unique=True, postgresql_where=text("kind = 'survey'")),
    )


class LandParcel(Base):
    """A piece of land: a survey patch (图斑), a supplied parcel (宗地) or a register parcel.

    ``layer`` says which (``survey``/``supply``/``register``, see :class:`LandImport`).
    ``land_use_code`` is the code as delivered and ``code_system`` the system it belongs to
    (三调工作分类, 国土空间用地用海分类, GB 50137); ``land_use_class`` its normalised class
    (``industrial``, ...); ``is_built`` is 建设用地 (built-up land) for survey patches.
    Supply rows carry the fields of the 供地结果公告: 电子监管号 (``supervision_no``), 项目名称,
    供地方式, 合同签订日期 (``contract_date``; ``supply_year`` is its year), the recovery date
    (收回) if any and the stated area in 公顷.
    Synthetic parcels (test and demo data) are flagged and never mixed up with real ones.
    """

    __tablename__ = "land_parcel"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    land_use_code: Mapped[str | None] = mapped_column(String(32))
    land_use_class: Mapped[str] = mapped_column(String(32), index=True)
    is_supplied: Mapped[bool] = mapped_column(Boolean)
    supply_year: Mapped[int | None] = mapped_column(Integer)
    is_built: Mapped[bool | None] = mapped_column(Boolean)
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    source_document: Mapped[str] = mapped_column(Text)
    #: area in m², EPSG:4549, computed by PostgreSQL from ``geom`` (never written by clients)
    area_m2: Mapped[float | None] = mapped_column(
        Float(precision=53), Computed("ST_Area(ST_Transform(geom, 4549))", persisted=True)
    )
    layer: Mapped[str] = mapped_column(String(16), server_default="register")
    import_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("land_import.id", ondelete="CASCADE"), index=True)
    code_system: Mapped[str | None] = mapped_column(String(16))
    land_use_name: Mapped[str | None] = mapped_column(Text)
    supervision_no: Mapped[str | None] = mapped_column(Text)
    project_name: Mapped[str | None] = mapped_column(Text)
    supply_method: Mapped[str | None] = mapped_column(Text)
    contract_date: Mapped[dt.date | None] = mapped_column(Date)
    recovery_date: Mapped[dt.date | None] = mapped_column(Date)
    stated_area_ha: Mapped[float | None] = mapped_column(Float(precision=53))
    #: 闲置土地认定 on a supply record (migration 0005): ``idle`` or ``disposed`` (处置完毕), with its year
    idle_status: Mapped[str | None] = mapped_column(String(16))
    idle_year: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # the default density basis (supplied industrial land) probes only these parcels
        Index(
            "ix_land_parcel_geom_supplied_industrial",
            "geom",
            postgresql_using="gist",
            postgresql_where=text("land_use_class = 'industrial' AND is_supplied"),
        ),
        # the intensity query's 工矿仓储 parcels (the layer and snapshot are parameters)
        Index("ix_land_parcel_geom_industrial", "geom", postgresql_using="gist",
              postgresql_where=text("land_use_class IN ('industrial', 'mining', 'logistics_warehouse')")),
        Index("ux_land_parcel_supervision_no", "supervision_no", unique=True, postgresql_where=text("layer = 'supply'")),
        CheckConstraint(f"layer IN {LAND_LAYERS_SQL}", name="land_parcel_layer"),
        CheckConstraint(
            "layer <> 'supply' OR (contract_date IS NOT NULL AND supervision_no IS NOT NULL)", name="land_parcel_supply_dated"
        ),
        CheckConstraint(
            "(idle_status IS NULL AND idle_year IS NULL) OR "
            "(idle_status IN ('idle', 'disposed') AND layer = 'supply' AND idle_year IS NOT NULL)",
            name="land_parcel_idle",
        ),
    )


class BuildingImport(Base):
    """One import of a buildings file (建筑物): the buildings of one year (a year imported again
    replaces them), with its source and how many floor areas were estimated (footprint × 层数)."""

    __tablename__ = "building_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    source_document: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    feature_count: Mapped[int] = mapped_column(Integer)
    estimated_count: Mapped[int] = mapped_column(Integer)
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    imported_by: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Building(Base):
    """A building footprint (EPSG:4326) with its floor area (建筑面积, m²) for the intensity indicators.

    ``floor_area_estimated``: the file gave 层数 only and the floor area is footprint × 层数.
    ``footprint_m2`` is computed by PostgreSQL in EPSG:4549 and ``anchor`` (ST_PointOnSurface)
    by PostGIS (never written by clients).
    """

    __tablename__ = "building"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_id: Mapped[int] = mapped_column(Integer, ForeignKey("building_import.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    external_id: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    floor_area_m2: Mapped[float] = mapped_column(Float(precision=53))
    floors: Mapped[float | None] = mapped_column(Float(precision=53))
    floor_area_estimated: Mapped[bool] = mapped_column(Boolean)
    source_document: Mapped[str] = mapped_column(Text)
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    footprint_m2: Mapped[float | None] = mapped_column(
        Float(precision=53), Computed("ST_Area(ST_Transform(geom, 4549))", persisted=True)
    )
    #: a point on the surface (ST_PointOnSurface), stored: it decides "on industrial land" (migration 0007)
    anchor: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False), Computed("ST_PointOnSurface(geom)", persisted=True)
    )


class IdleLandReview(Base):
    """A 闲置土地调查认定 (idle-land identification) carried out for a year and a scope, whatever
    it found (migration 0008): ``park_id`` NULL is the whole district (全区), a park covers its
    blocks.  Its findings are flags on supply records (``LandParcel.idle_status``); this row is
    what says that a check which flagged nothing was made."""

    __tablename__ = "idle_land_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id", ondelete="CASCADE"))
    source_document: Mapped[str] = mapped_column(Text)
    source_section: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recorded_by: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # one review per year and scope, the district (NULL) included
        Index("ux_idle_land_review_scope", "year", "park_id", unique=True, postgresql_nulls_not_distinct=True),
        CheckConstraint("year BETWEEN 1990 AND 2100", name="idle_land_review_year"),
        CheckConstraint("btrim(source_document) <> '' AND length(source_document) <= 500", name="idle_land_review_source"),
        CheckConstraint("source_section IS NULL OR length(source_section) <= 500", name="idle_land_review_section"),
    )


class Road(Base):
    """A road, expressway, river, railway or boundary line that a 四至 can name."""

    __tablename__ = "road"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    geom: Mapped[Any] = mapped_column(Geometry("MULTILINESTRING", srid=SRID, spatial_index=True))
    geometry_quality: Mapped[GeometryQuality] = mapped_column(_enum(GeometryQuality, "geometry_quality"))
    source_document: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class DataChange(Base):
    """Per-table change counter, bumped by a statement trigger on every write (migration 0003).

    Caches compare these counters rather than scanning tables to notice new data.
    """

    __tablename__ = "data_change"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiKey(Base):
    """An API key; only its hash is stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "api_role"))
    park_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list, server_default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    """Every write: who, when, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
