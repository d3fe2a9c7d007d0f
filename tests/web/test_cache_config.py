"""``CARTA_CACHE_URL``: the cache backend, and sessions read through it only when it is shared
by every server process (ADR 0286)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from carta.web import config


def test_the_default_is_each_process_its_own_memory() -> None:
    cache = config.caches({})["default"]
    assert cache["BACKEND"].endswith("LocMemCache")
    assert config.session_engine({}).endswith(".db")


def test_a_file_cache_is_shared_and_carries_the_sessions() -> None:
    environ = {"CARTA_CACHE_URL": "file:///var/cache/carta"}
    cache = config.caches(environ)["default"]
    assert cache["BACKEND"].endswith("FileBasedCache")
    assert cache["LOCATION"] == "/var/cache/carta"
    assert config.session_engine(environ).endswith(".cached_db")


def test_a_per_process_cache_never_carries_the_sessions() -> None:
    """A sign-out in one process must end the session in every process."""
    assert config.session_engine({"CARTA_CACHE_URL": "locmem://"}).endswith(".db")


@pytest.mark.parametrize("url", ["memcached://127.0.0.1", "file://relative/folder", "/tmp/x"])
def test_a_bad_cache_url_says_what_to_write(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="CARTA_CACHE_URL"):
        config.caches({"CARTA_CACHE_URL": url})


def test_redis_needs_its_package() -> None:
    try:
        import redis  # noqa: F401
    except ImportError:
        with pytest.raises(ImproperlyConfigured, match="redis package"):
            config.caches({"CARTA_CACHE_URL": "redis://127.0.0.1:6379/1"})
    else:
        cache = config.caches({"CARTA_CACHE_URL": "redis://127.0.0.1:6379/1"})["default"]
        assert cache["BACKEND"].endswith("RedisCache")
