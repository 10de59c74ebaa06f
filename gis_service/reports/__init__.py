"""Briefing reports: formatted XLSX tables and a printable map page (PNG/PDF), in Chinese."""

from gis_service.reports.build import ReportFiles, district_report, park_report
from gis_service.reports.tables import ReportData, build_report_data

__all__ = ["ReportData", "ReportFiles", "build_report_data", "district_report", "park_report"]
