# What pydantic-settings' BaseSettings does with the fields used here: each annotated field is
# read from the environment variable of the same name (case-insensitively), else its default.
import os


class BaseSettings:
    def __init__(self):
        env = {k.upper(): v for k, v in os.environ.items()}
        for cls in reversed(type(self).__mro__):
            for name, kind in getattr(cls, "__annotations__", {}).items():
                if name.upper() in env:
                    setattr(self, name, kind(env[name.upper()]))
