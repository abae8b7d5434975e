"""The admin site's titles and log-in form (the back office is the admin)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.forms import LoginForm

admin.site.site_header = _("Jinshao · blocks call, lines respond")
admin.site.site_title = _("Jinshao back office")
admin.site.index_title = _("District administration")
# The case list needs the width more than a second copy of the app menu.
admin.site.enable_nav_sidebar = False
# The index page leads with the dashboard (analytics.admin_views).
admin.site.index_template = "admin/jinshao_index.html"
# Log-in attempts for one account from one address are taken one at a time.
admin.site.login_form = LoginForm
