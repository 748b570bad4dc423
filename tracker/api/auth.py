"""The admin token (TRACKER_READ_TOKEN): configured, or generated once into the data directory.
Who may read what with it, or with a site key or a share link, is `access.py`'s."""

from __future__ import annotations

import secrets
from pathlib import Path

from tracker.config import Config, ConfigError
from tracker.storage.files import create_once

TOKEN_FILE = "read-token"


def resolve_read_token(config: Config) -> tuple[str, str]:
    """The token and where it comes from (for the start-up log, never the token itself)."""
    if config.read_token:
        return config.read_token, "TRACKER_READ_TOKEN"
    path = config.data_dir / TOKEN_FILE
    token = _read_token_file(path) or _create_token_file(path)
    return token, str(path)


def _read_token_file(path: Path) -> str | None:
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"cannot read the read token file {path}: {error.strerror}") from None
    if not token:
        raise ConfigError(f"the read token file {path} is empty; delete it to make a new token")
    return token


def _create_token_file(path: Path) -> str:
    """A new random token, mode 0600; a concurrent starter's token wins if first."""
    create_once(path, secrets.token_urlsafe(32) + "\n", mode=0o600)
    return _read_token_file(path) or ""
