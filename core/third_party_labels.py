"""Chinese names for what third-party apps show in the back office.

django-axes, django-otp, simplejwt's token blacklist (and Django's own
permission names, written to the database in English) name their apps, models,
fields, columns and actions in English, some not marked for translation at all.
Each name is set here again through ``gettext_lazy`` with the same English text,
so ``makemessages`` extracts it into our catalogue (which wins over theirs,
``LOCALE_PATHS``) and the page shows the Chinese. Model and field names keep
their English value outside a request's language, so no migration changes
(``makemigrations`` runs with translations off). App names and admin labels are
not part of any migration and may say what the app is for.

``name_third_party_apps()`` is called once when the admin loads (``config.admin``).
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

#: App label → the name the admin index shows.
APP_NAMES = {
    "axes": _("Log-in lock-out"),
    "otp_static": _("Recovery codes"),
    "otp_totp": _("Authenticator apps"),
    "token_blacklist": _("Phone log-in tokens"),
}

#: "app_label.ModelName" → (verbose name, verbose name plural), their English kept.
MODEL_NAMES = {
    "axes.AccessAttempt": (_("access attempt"), _("access attempts")),
    "axes.AccessAttemptExpiration": (
        _("access attempt expiration"),
        _("access attempt expirations"),
    ),
    "axes.AccessLog": (_("access log"), _("access logs")),
    "axes.AccessFailureLog": (_("access failure"), _("access failures")),
    "otp_static.StaticDevice": (_("static device"), _("static devices")),
    "otp_static.StaticToken": (_("static token"), _("static tokens")),
    "otp_totp.TOTPDevice": (_("TOTP device"), _("TOTP devices")),
    "token_blacklist.OutstandingToken": (_("Outstanding Token"), _("Outstanding Tokens")),
    "token_blacklist.BlacklistedToken": (_("Blacklisted Token"), _("Blacklisted Tokens")),
}

#: Field labels, matched to a field by their English text (so no migration changes).
FIELD_NAMES = (
    _("ID"),
    _("id"),
    _("User Agent"),
    _("IP Address"),
    _("HTTP Accept"),
    _("Path"),
    _("Attempt Time"),
    _("Access lock out"),
    _("GET Data"),
    _("POST Data"),
    _("Failed Logins"),
    _("Access Attempt"),
    _("Logout Time"),
    _("Session key hash (sha256)"),
    _("user"),
    _("name"),
    _("confirmed"),
    _("throttling failure timestamp"),
    _("throttling failure count"),
    _("created at"),
    _("last used at"),
    _("device"),
    _("token"),
    pgettext_lazy("authenticator", "key"),  # not a template field's key
    _("step"),
    _("t0"),
    _("digits"),
    _("tolerance"),
    _("drift"),
    _("last t"),
    _("jti"),
    _("blacklisted at"),
    _("expires at"),
    _("Expires At"),
)

#: Help texts, matched by their English text (django-otp's devices, django-axes).
FIELD_HELP = (
    _("The user that this device belongs to."),
    _("The human-readable name of this device."),
    _("Is this device ready for use?"),
    _("A timestamp of the last failed verification attempt. Null if last attempt succeeded."),
    _("Number of successive failed attempts."),
    _("The date and time when this device was initially created in the system."),
    _("The most recent date and time this device was used."),
    _("A hex-encoded secret key of up to 40 bytes."),
    _("The time step in seconds."),
    _("The Unix time at which to begin counting steps."),
    _("The number of digits to expect in a token."),
    _("The number of time steps in the past or future to allow."),
    _("The number of time steps the prover is known to deviate from our clock."),
    _("The t value of the latest verified token. The next token must be at a higher time step."),
    _("The time when access attempt expires and is no longer valid."),
)

# Texts the third-party admins and Django's own templates translate with their own
# msgids, missing or English in their zh-hans catalogues: listed so makemessages
# puts them in ours.
EXTRACTED_ONLY = (
    gettext_noop("Select all"),  # django-import-export's export page
    gettext_noop("Error:"),
    gettext_noop("Locked Out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("Model name"),  # the admin index's table headers (read aloud)
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
)


#: django-otp's fieldset titles and QR code column (plain strings in its admin).
FIELDSET_TITLES = (
    _("Identity"),
    _("Timestamps"),
    _("Configuration"),
    pgettext_lazy("authenticator", "State"),
    _("Throttling"),
)

#: Django's own permission names ("Can add …"), written to the database in English.
PERMISSION_ACTIONS = {
    "add": _("Can add %(what)s"),
    "change": _("Can change %(what)s"),
    "delete": _("Can delete %(what)s"),
    "view": _("Can view %(what)s"),
}


def _otp_admin_texts() -> None:
    """django-otp's device pages: fieldset titles and the QR code column."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with translation.override(None):
        titles = {str(title): title for title in FIELDSET_TITLES}
    for model in (StaticDevice, TOTPDevice):
        model_admin = admin.site._registry.get(model)
        if model_admin is None or getattr(model_admin, "_titles_translated", False):
            continue
        english = model_admin.get_fieldsets

        def get_fieldsets(request, obj=None, english=english):
            return [
                (titles.get(str(name), name), options) for name, options in english(request, obj)
            ]

        model_admin.get_fieldsets = get_fieldsets  # type: ignore[method-assign]
        model_admin._titles_translated = True  # type: ignore[attr-defined]
        model_admin.search_help_text = _("Search by the person's username or e-mail address.")  # type: ignore[misc]

    @admin.display(description=_("QR Code"))
    def qrcode_link(model_admin, device) -> str:
        href = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})
        return format_html('<a href="{}">{}</a>', href, _("QR code"))

    TOTPDeviceAdmin.qrcode_link = qrcode_link


def _permission_text(permission) -> str:
    """``app | model | Can add model`` with the words in the reader's language."""
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in PERMISSION_ACTIONS and model_name == model._meta.model_name:
        name = PERMISSION_ACTIONS[action] % {"what": model._meta.verbose_name}
    else:
        name = gettext(permission.name)  # our own permissions are in the catalogue
    return f"{permission.content_type} | {name}"


def _axes_columns() -> None:
    """django-axes' columns named after their methods ("Status", "Expiration")."""
    from axes.admin import AccessAttemptAdmin

    AccessAttemptAdmin.status.short_description = _("Status")
    AccessAttemptAdmin.expiration.short_description = _("Expiration")


def _model_texts() -> None:
    """The rows' own names (``__str__``), shown in titles and on each row's checkbox."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Permission
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    def when(moment) -> str:
        return formats.localize(timezone.localtime(moment)) if moment else ""

    def attempt(obj) -> str:
        return _("Attempt by %(user)s at %(time)s") % {
            "user": obj.username,
            "time": when(obj.attempt_time),
        }

    def failure(obj) -> str:
        return _("Failed log-in by %(user)s at %(time)s") % {
            "user": obj.username,
            "time": when(obj.attempt_time),
        }

    def log(obj) -> str:
        return _("Log-in by %(user)s at %(time)s") % {
            "user": obj.username,
            "time": when(obj.attempt_time),
        }

    def recovery_code(obj) -> str:  # never the code itself
        return _("Recovery code of %(user)s") % {"user": obj.device.user}

    def recovery_codes(obj) -> str:
        return _("Recovery codes of %(user)s") % {"user": obj.user}

    def authenticator(obj) -> str:
        return _("Authenticator app of %(user)s") % {"user": obj.user}

    def outstanding(obj) -> str:
        return _("Token of %(user)s (%(jti)s)") % {"user": obj.user, "jti": obj.jti}

    def blacklisted(obj) -> str:
        return _("Ended token of %(user)s") % {"user": obj.token.user}

    AccessAttempt.__str__ = attempt
    AccessFailureLog.__str__ = failure
    AccessLog.__str__ = log
    StaticDevice.__str__ = recovery_codes
    TOTPDevice.__str__ = authenticator
    StaticToken.__str__ = recovery_code
    Permission.__str__ = _permission_text  # type: ignore[method-assign]
    OutstandingToken.__str__ = outstanding  # type: ignore[method-assign]
    BlacklistedToken.__str__ = blacklisted  # type: ignore[method-assign]


def name_third_party_apps() -> None:
    """Give the third-party apps' names, fields and admin labels their translatable
    texts (idempotent)."""
    for label, name in APP_NAMES.items():
        apps.get_app_config(label).verbose_name = name
    with translation.override(None):  # the English each text is matched by
        labels = {str(label): label for label in FIELD_NAMES}
        helps = {str(text): text for text in FIELD_HELP}
        for dotted, (singular, plural) in MODEL_NAMES.items():
            meta = apps.get_model(dotted)._meta
            assert (str(meta.verbose_name), str(meta.verbose_name_plural)) == (
                str(singular),
                str(plural),
            ), dotted  # an upgrade renamed it: a migration would follow
            meta.verbose_name, meta.verbose_name_plural = singular, plural
            for field in meta.get_fields():
                label = str(getattr(field, "verbose_name", ""))
                if label in labels:
                    field.verbose_name = labels[label]
                help_text = str(getattr(field, "help_text", ""))
                if help_text in helps:
                    field.help_text = helps[help_text]
    _axes_columns()
    _otp_admin_texts()
    _model_texts()
