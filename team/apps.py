from django.apps import AppConfig


class TeamConfig(AppConfig):
    """People of a workspace: each tenant user's role and, for agents, the WhatsApp accounts they serve."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "team"
    verbose_name = "Team and roles"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from team.receivers import membership_on_user_created

        post_save.connect(
            membership_on_user_created, sender=get_user_model(), dispatch_uid="team.user_created"
        )
