"""The back office at /admin/. The site and its building blocks are in m4s/core/admin.py; each
app registers its own models in its own admin.py."""

from m4s.core.admin import M4SAdminSite, admin_site

__all__ = ["M4SAdminSite", "admin_site"]
