"""``python manage.py createtoken USER``: print a new API token for USER, creating the user if needed."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from knox.models import AuthToken


class Command(BaseCommand):
    """``createtoken USER``: print a new API token of USER."""

    help = (
        "Print a new API token of USER (the user is created if missing). Send it as "
        "'Authorization: Token <key>'. Only its digest is stored, so it is shown once; it expires "
        "after DJANGO_TOKEN_TTL_HOURS; POST /api/v1/auth/logout with it revokes it."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        _, key = AuthToken.objects.create(user=user)
        self.stdout.write(key)
