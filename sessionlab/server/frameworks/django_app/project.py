"""A minimal Django project in one file: django.contrib.auth's LoginView/LogoutView and a view
that shows the logged-in user, on the `db` or `signed_cookies` session backend.

Environment:
  SESSIONLAB_BACKEND   db | signed_cookies
  SESSIONLAB_MODE      default (startproject's settings) | hardened (HTTPS settings, below)
  SESSIONLAB_DATA      a private directory for the SQLite file
  SESSIONLAB_SECRETS   a 0600 JSON file: {"secret_key": ..., "passwords": {"user": ...}}
  SESSIONLAB_AGE       SESSION_COOKIE_AGE in seconds (optional; Django's default: 2 weeks)
  SESSIONLAB_ORIGIN    the https origin, for CSRF_TRUSTED_ORIGINS (hardened)
Served as WSGI `project:application` (granian); the first import creates the tables and
the accounts.
"""

import json
import os

from django.conf import settings

BACKEND = os.environ.get("SESSIONLAB_BACKEND", "db")
PROFILE = os.environ.get("SESSIONLAB_MODE", "default")
DATA = os.environ["SESSIONLAB_DATA"]
with open(os.environ["SESSIONLAB_SECRETS"], encoding="utf-8") as file:
    SECRETS = json.load(file)

config = dict(
    DEBUG=False,
    SECRET_KEY=SECRETS["secret_key"],
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
    ],
    # startproject's middleware, minus what this project has no use for (messages, clickjacking)
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(DATA, "db.sqlite3"),
        }
    },
    SESSION_ENGINE=f"django.contrib.sessions.backends.{BACKEND}",
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "registration/login.html": (
                                '<form method="post">{% csrf_token %}{{ form.as_p }}'
                                "<button>Log in</button></form>"
                            ),
                        },
                    )
                ],
            },
        }
    ],
    LOGIN_REDIRECT_URL="/user",
    LOGOUT_REDIRECT_URL="/user",
    USE_TZ=True,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    # MD5 instead of Django's PBKDF2 (about 0.3 s per login on a small machine, and an audit
    # logs in some 25 times), as Django's docs advise for test suites. It changes nothing
    # in session handling; it makes these lab passwords cheap to guess: never deploy it.
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
)
if os.environ.get("SESSIONLAB_AGE"):
    config["SESSION_COOKIE_AGE"] = int(os.environ["SESSIONLAB_AGE"])
if PROFILE == "hardened":
    origin = os.environ.get("SESSIONLAB_ORIGIN", "")
    config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_NAME="__Host-sessionid",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_EXPIRE_AT_BROWSER_CLOSE=True,  # a browser-session cookie; the server still
        # ends the session SESSION_COOKIE_AGE after its last write
        CSRF_COOKIE_SECURE=True,
        CSRF_COOKIE_NAME="__Host-csrftoken",
        CSRF_COOKIE_HTTPONLY=True,
        CSRF_TRUSTED_ORIGINS=[origin] if origin else [],
        SECURE_HSTS_SECONDS=3600,
        SECURE_CONTENT_TYPE_NOSNIFF=True,
    )
    if "SESSIONLAB_AGE" not in os.environ:
        config["SESSION_COOKIE_AGE"] = 8 * 3600
settings.configure(**config)

import django  # noqa: E402

django.setup()

from django.contrib.auth import views as auth_views  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.html import escape  # noqa: E402


def user_view(request):
    if request.user.is_authenticated:
        return HttpResponse(
            f"{escape(request.user.username)}<br />"
            f'<form method="post" action="/accounts/logout/">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}">'
            "<button>Logout</button></form>"
        )
    return HttpResponse("user logged out!")


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view()),
    path("accounts/logout/", auth_views.LogoutView.as_view()),
    path("user", user_view),
]

application = get_wsgi_application()


def setup():
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    for name, password in SECRETS["passwords"].items():
        if not User.objects.filter(username=name).exists():
            User.objects.create_user(name, password=password)


setup()
