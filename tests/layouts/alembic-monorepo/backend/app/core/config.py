# The settings class of a FastAPI-style project: the URL is built from POSTGRES_* parts whose
# defaults point at a local server. The test writes the defaults to reach its decoy database:
# a hand-off that misses these names migrates the decoy.
try:
    from pydantic_settings import BaseSettings
except ImportError:  # the test tools have no pydantic: the same lookup, see _standin.py
    from app.core._standin import BaseSettings


class Settings(BaseSettings):
    PROJECT_NAME: str = "shop"
    POSTGRES_SERVER: str = "__DECOY_HOST__"
    POSTGRES_PORT: int = __DECOY_PORT__
    POSTGRES_USER: str = "__DECOY_USER__"
    POSTGRES_PASSWORD: str = "__DECOY_PASSWORD__"
    POSTGRES_DB: str = "__DECOY_DB__"

    @property
    def SQLALCHEMY_DATABASE_URI(self) -> str:
        from urllib.parse import quote

        return (
            f"postgresql+psycopg://{quote(self.POSTGRES_USER, safe='')}:{quote(self.POSTGRES_PASSWORD, safe='')}"
            f"@{self.POSTGRES_SERVER}:{self.POSTGRES_PORT}/{self.POSTGRES_DB}"
        )


settings = Settings()
