"""The admin site's titles, log-in form, and the order of the index (the back office is the admin)."""

from types import MethodType

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _

from accounts.forms import LoginForm
from core.third_party_labels import name_third_party_apps

admin.site.site_header = _("Jinshao · blocks call, lines respond")
admin.site.site_title = _("Jinshao back office")
admin.site.index_title = _("District administration")
# The case list needs the width more than a second copy of the app menu.
admin.site.enable_nav_sidebar = False
# The index page leads with the dashboard (analytics.admin_views).
admin.site.index_template = "admin/jinshao_index.html"
# Log-in attempts for one account from one address are taken one at a time.
admin.site.login_form = LoginForm
# The log-in page points everyone but the back office's people to the phone app (at /).
admin.site.login_template = "admin/jinshao_login.html"

#: The index's apps in the order people work with them: cases, then configuration,
#: then accounts and security, then the technical tables. Apps not named go last.
APP_ORDER = (
    # the work
    "cases",
    "chat",
    "ratings",
    "notifications",
    # configuration
    "templates",
    "grids",
    "departments",
    "integrations",
    # accounts and security
    "accounts",
    "auth",
    "otp_totp",
    "otp_static",
    "token_blacklist",
    "axes",
    "audit",
    # technical
    "core",
)


def ordered_app_list(self: AdminSite, request, app_label=None) -> list[dict]:
    """Django's app list (alphabetical by app name) in ``APP_ORDER``; models keep theirs."""
    apps = AdminSite.get_app_list(self, request, app_label)
    position = {label: index for index, label in enumerate(APP_ORDER)}
    return sorted(apps, key=lambda app: position.get(app["app_label"], len(position)))


admin.site.get_app_list = MethodType(ordered_app_list, admin.site)  # type: ignore[method-assign]
name_third_party_apps()
