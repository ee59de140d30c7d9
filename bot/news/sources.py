"""The feed registry: the bundled default list (`feeds.toml`) or what the FEEDS setting names instead (URLs, a
file in the format of `feeds.toml`, or an OPML subscription list)."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import ConfigError

BUNDLED_FEEDS = Path(__file__).with_name("feeds.toml")
MAX_URL_LENGTH = 2048
MAX_NAME_LENGTH = 200
LOCAL_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


@dataclass(frozen=True)
class FeedSource:
    """A feed as configured: where it is and who publishes it."""

    url: str
    name: str
    country: str | None = None  # ISO 3166-1 alpha-2, upper case
    language: str | None = None  # ISO 639-1, lower case


def check_feed_url(url: str, *, allow_private: bool) -> str:
    """Return `url` stripped if it can be a feed URL, else raise ValueError saying why.

    Without `allow_private`, hosts that are obviously local (localhost, private or loopback IP literals, .local
    names) are refused here already; the HTTP client's SSRF guard checks the resolved address on every fetch.
    """
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or any(char.isspace() for char in url):
        raise ValueError("a feed URL is one http:// or https:// address, without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise ValueError("that is not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("a feed URL must start with http:// or https:// and name a host")
    if parts.username or parts.password:
        raise ValueError("a feed URL must not contain a user name or password")
    if not allow_private and _is_local_host(parts.hostname):
        raise ValueError("that address is on a private network; only public feeds can be added")
    return url


def _is_local_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(LOCAL_HOST_SUFFIXES):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def source_from_url(url: str) -> FeedSource:
    """A source known only by its URL; its host becomes its name."""
    url = check_feed_url(url, allow_private=True)
    host = (urlsplit(url).hostname or url).removeprefix("www.")
    return FeedSource(url=url, name=host)


def normalise_country(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code in upper case, or None; ValueError for anything else."""
    if not country:
        return None
    country = country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValueError(f"country must be a two-letter code such as GB or JP, not {country!r}")
    return country


def normalise_language(language: str | None) -> str | None:
    """An ISO 639-1 code (or three-letter 639-3) in lower case, or None; ValueError for anything else."""
    if not language:
        return None
    language = language.strip().lower()
    if not 2 <= len(language) <= 3 or not language.isalpha():
        raise ValueError(f"language must be a code such as en or de, not {language!r}")
    return language


def load_sources_file(path: Path) -> list[FeedSource]:
    """Read a feeds file in the `feeds.toml` format; ConfigError names the file and the bad entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"FEEDS: cannot read {path}: {error}") from None
    entries = data.get("feeds")
    if not isinstance(entries, list):
        raise ConfigError(f"FEEDS: {path} has no [[feeds]] entries")
    sources: list[FeedSource] = []
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                raise ValueError("every entry needs a url")
            name = str(entry.get("name") or "").strip()
            if not name or len(name) > MAX_NAME_LENGTH:
                raise ValueError(f"every entry needs a name of at most {MAX_NAME_LENGTH} characters")
            sources.append(
                FeedSource(
                    url=check_feed_url(entry["url"], allow_private=True),
                    name=name,
                    country=normalise_country(entry.get("country")),
                    language=normalise_language(entry.get("language")),
                )
            )
        except ValueError as error:
            raise ConfigError(f"FEEDS: {path}, feed #{number}: {error}") from None
    return _unique(sources)


def _unique(sources: list[FeedSource]) -> list[FeedSource]:
    """The sources with repeated URLs dropped (the first one wins)."""
    by_url: dict[str, FeedSource] = {}
    for source in sources:
        by_url.setdefault(source.url, source)
    return list(by_url.values())


def configured_sources(feeds_setting: str) -> list[FeedSource]:
    """The feeds to poll: the bundled list when FEEDS is empty, else its URLs or the file it names (.opml or TOML)."""
    value = feeds_setting.strip()
    if not value:
        return load_sources_file(BUNDLED_FEEDS)
    if "://" not in value:
        path = Path(value).expanduser()
        if path.suffix.lower() == ".opml":
            from bot.news.opml import load_opml_sources  # imported here: opml builds on this module

            return _unique(load_opml_sources(path))
        return load_sources_file(path)
    try:
        return _unique([source_from_url(url) for url in value.split(",") if url.strip()])
    except ValueError as error:
        raise ConfigError(f"FEEDS: {error}") from None
