import dj_database_url

SECRET_KEY = "fixture-only"
DEBUG = False
ALLOWED_HOSTS = []
INSTALLED_APPS = ["shop"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# DATABASE_URL, as dj-database-url reads it.
DATABASES = {"default": dj_database_url.config(env="DATABASE_URL")}
