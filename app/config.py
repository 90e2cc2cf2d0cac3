"""Configuration read from the environment when the app is created (never at import time)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULT_INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def instance_path() -> Path:
    return Path(os.environ.get("MUTUALISE_INSTANCE", DEFAULT_INSTANCE))


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the driver-less scheme; we use psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    path = instance_path()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'mutualise.db'}"


def secret_key() -> str:
    """SECRET_KEY from the environment, else generated once and kept under instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = instance_path()
    path.mkdir(parents=True, exist_ok=True)
    key_file = path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def from_environment() -> dict[str, Any]:
    env = os.environ.get("MUTUALISE_ENV", "development")
    production = env == "production"
    return {
        "MUTUALISE_ENV": env,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": secret_key(),
        # Production refuses a generated key: every process and machine must share one.
        "SECRET_KEY_SOURCE": "environment" if os.environ.get("SECRET_KEY") else "instance",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # ASVS 3.4.4: the __Host- prefix (Secure, Path=/, no Domain) in production.
        "SESSION_COOKIE_NAME": "__Host-mutualise" if production else "session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("MUTUALISE_SESSION_HOURS", "8")) * 3600,
        # The cookie is signed again when it changes (web_sessions: at most every 30 s), not on
        # every response: signing and sending it each time cost ~0.5 ms per request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Uploads: refused by Werkzeug before they are read (413).
        "MAX_CONTENT_LENGTH": int(os.environ.get("MUTUALISE_MAX_UPLOAD", 50 * 1024 * 1024)),
        "WTF_CSRF_TIME_LIMIT": None,
        # Rendered Excel downloads kept per worker, in bytes (app/download_cache.py); 0: none.
        "DOWNLOAD_CACHE_BYTES": int(os.environ.get("MUTUALISE_DOWNLOAD_CACHE", 32 * 1024 * 1024)),
        "PAGE_SIZE": 50,
        # Hardening (app/security.py): proxies in front, idle timeout, rate-limit storage.
        "PROXY_HOPS": int(os.environ.get("MUTUALISE_PROXY_HOPS", "0")),
        "SESSION_IDLE_MINUTES": int(os.environ.get("MUTUALISE_SESSION_IDLE_MINUTES", "60")),
        "RATELIMIT_STORAGE_URI": os.environ.get("MUTUALISE_RATELIMIT_STORAGE", ""),
        # The hash chain's anchor outside the database (app/anchor.py); empty: none.
        "SEAL_ANCHOR": seal_anchor(),
    }


def seal_anchor() -> str:
    """MUTUALISE_SEAL_ANCHOR, else instance/seal-anchor.txt (set it empty to write none)."""
    return os.environ.get("MUTUALISE_SEAL_ANCHOR", str(instance_path() / "seal-anchor.txt"))
