from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save, pre_save

        from accounts import receivers
        from accounts.models import RoleAssignment, User

        pre_save.connect(
            receivers.remember_credentials, sender=User, dispatch_uid="accounts_remember"
        )
        post_save.connect(
            receivers.end_logins_on_credential_change, sender=User, dispatch_uid="accounts_end"
        )
        for signal in (post_save, post_delete):
            signal.connect(
                receivers.recheck_on_role_change,
                sender=RoleAssignment,
                dispatch_uid=f"accounts_role_recheck_{signal is post_save}",
            )
        user_locked_out.connect(receivers.end_logins_on_lockout, dispatch_uid="accounts_lockout")
        user_logged_out.connect(receivers.close_sockets_on_logout, dispatch_uid="accounts_logout")
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for device in (TOTPDevice, StaticDevice):
            post_delete.connect(
                receivers.end_logins_on_device_removal,
                sender=device,
                dispatch_uid=f"accounts_device_removed_{device.__name__}",
            )
