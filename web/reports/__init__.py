"""The report pages (Báo cáo): airtime planned versus aired, charts and file downloads."""

from web.reports.views import bp

__all__ = ["bp"]
