"""Subscriptions: a channel's schedule, filters, size and style, validated with helpful errors.

Only people allowed to manage a channel may change its subscription; the platform adapter decides who that is
(Discord: Manage Channels or a configured role; Slack: workspace admins or a configured list) and says so in the
`Actor` it passes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, time
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import clock_time, parse_quiet_hours
from bot.digests.model import ChannelRef, DigestItem, Style
from bot.digests.schedule import Schedule
from bot.errors import PermissionDeniedError, UserInputError
from bot.storage import Database, Feed, Subscription, utcnow
from summarizer.languages import language_code, language_name
from summarizer.tagging import Gazetteer, load_gazetteer

MAX_ITEMS_LIMIT = 10
MAX_FILTER_VALUES = 20
MAX_KEYWORD_CHARS = 50
SUGGESTIONS = 3
STYLES: tuple[Style, ...] = ("short", "detailed")

FilterKind = Literal["country", "region", "topic"]

# Breaking alerts, unless a subscription says otherwise (ALERT_* settings change them for the whole bot).
ALERT_MIN_OUTLETS = 5
ALERT_MIN_COUNTRIES = 3
ALERT_WINDOW_HOURS = 2
ALERTS_PER_DAY = 3
ALERT_QUIET_HOURS = "22:00-07:00"
MAX_ALERT_WINDOW_HOURS = 24
MAX_ALERTS_PER_DAY = 24


@dataclass(frozen=True)
class AlertRule:
    """When a story is breaking news for a channel: enough independent outlets, or publisher countries, within
    a window; at most ``per_day`` alerts a (local) day; none in the quiet hours (local times, "" for none)."""

    min_outlets: int = ALERT_MIN_OUTLETS
    min_countries: int = ALERT_MIN_COUNTRIES
    window_hours: int = ALERT_WINDOW_HOURS
    per_day: int = ALERTS_PER_DAY
    quiet_start: str = "22:00"
    quiet_end: str = "07:00"

    @classmethod
    def parse(
        cls,
        *,
        min_outlets: int | None = None,
        min_countries: int | None = None,
        window_hours: int | None = None,
        per_day: int | None = None,
        quiet_hours: str | None = None,
        defaults: AlertRule | None = None,
    ) -> AlertRule:
        """A rule from what a user typed, each missing value from ``defaults``; raises `UserInputError`."""
        base = defaults or cls()
        rule = cls(
            min_outlets=base.min_outlets if min_outlets is None else min_outlets,
            min_countries=base.min_countries if min_countries is None else min_countries,
            window_hours=base.window_hours if window_hours is None else window_hours,
            per_day=base.per_day if per_day is None else per_day,
            quiet_start=base.quiet_start,
            quiet_end=base.quiet_end,
        )
        if quiet_hours is not None:
            start, end = parse_quiet_hours(quiet_hours)
            rule = cls(rule.min_outlets, rule.min_countries, rule.window_hours, rule.per_day, start, end)
        if rule.min_outlets < 2 or rule.min_countries < 2:
            raise UserInputError("An alert needs at least 2 outlets or 2 publisher countries.")
        if not 1 <= rule.window_hours <= MAX_ALERT_WINDOW_HOURS:
            raise UserInputError(f"The alert window must be 1 to {MAX_ALERT_WINDOW_HOURS} hours.")
        if not 1 <= rule.per_day <= MAX_ALERTS_PER_DAY:
            raise UserInputError(f"Alerts per day must be 1 to {MAX_ALERTS_PER_DAY}.")
        return rule

    def to_json(self) -> dict[str, Any]:
        """The rule as ``Subscription.alerts`` stores it."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertRule:
        """The rule stored by `to_json`."""
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def is_quiet(self, local: time) -> bool:
        """Whether a local time of day falls in the quiet hours (which may run past midnight)."""
        if not self.quiet_start or not self.quiet_end:
            return False
        start, end = clock_time(self.quiet_start), clock_time(self.quiet_end)
        moment = local.replace(second=0, microsecond=0, tzinfo=None)
        return start <= moment < end if start <= end else moment >= start or moment < end

    def describe(self) -> str:
        """The rule in words."""
        quiet = f", quiet {self.quiet_start}–{self.quiet_end}" if self.quiet_start and self.quiet_end else ""
        return (
            f"{self.min_outlets} outlets or {self.min_countries} publisher countries within {self.window_hours} h, "
            f"at most {self.per_day} a day{quiet}"
        )


@dataclass(frozen=True)
class Actor:
    """Who runs a command, and whether the platform lets them manage the channel."""

    user_id: str
    can_manage: bool
    name: str = ""


@dataclass(frozen=True)
class SubscriptionRequest:
    """What a user asks for; names as typed (countries, regions and topics are resolved and checked)."""

    schedule: str = "08:00"
    timezone: str | None = None
    countries: Sequence[str] = ()
    regions: Sequence[str] = ()
    topics: Sequence[str] = ()
    keywords: Sequence[str] = ()
    sources: Sequence[str] = ()
    max_items: int = 5
    style: str = "short"
    updates: bool = True  # new coverage of stories the channel has is posted in their thread
    alerts: bool = False  # breaking alerts, with the rule below (None: the bot's default)
    alert_outlets: int | None = None
    alert_countries: int | None = None
    alert_window: int | None = None  # hours
    alerts_per_day: int | None = None
    quiet_hours: str | None = None
    languages: Sequence[str] = ()  # names or ISO 639-1 codes; empty: every language


@dataclass(frozen=True)
class SubscriptionInfo:
    """A channel's subscription as platforms show it (`/news settings`)."""

    id: int
    channel: ChannelRef
    schedule: str
    timezone: str
    filters: dict[str, list[str]]
    filter_names: dict[str, list[str]] = field(default_factory=dict)
    max_items: int = 5
    style: str = "short"
    paused_reason: str | None = None
    next_digest_at: datetime | None = None
    updates: bool = True
    alerts: AlertRule | None = None

    def describe_follow_ups(self) -> str:
        """Updates and alerts in words."""
        updates = "updates in the story's thread" if self.updates else "no updates"
        alerts = f"breaking alerts: {self.alerts.describe()}" if self.alerts else "no breaking alerts"
        return f"{updates}; {alerts}"

    @property
    def filter_summary(self) -> str:
        """The filters in words, "" when there are none."""
        return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in self.filter_names.items() if names)

    def describe_filters(self) -> str:
        """The filters in words for people, "everything" when there are none."""
        return self.filter_summary or "everything"


def split_list(text: str | None) -> list[str]:
    """Split a comma-separated option ("Japan, South Korea") into its trimmed, non-empty parts."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _resolve(kind: FilterKind, names: Sequence[str], gazetteer: Gazetteer) -> tuple[list[str], list[str]]:
    """Ids and display names for typed names of one kind; an unknown name raises with close suggestions."""
    ids: list[str] = []
    shown: list[str] = []
    for name in names:
        ref = gazetteer.resolve(name)
        if ref is None or ref.kind != kind:
            raise UserInputError(_unknown(kind, name, gazetteer))
        if ref.id not in ids:
            ids.append(ref.id)
            shown.append(ref.name)
    return ids, shown


def _unknown(kind: FilterKind, name: str, gazetteer: Gazetteer) -> str:
    choices = known_names(kind, gazetteer)
    close = difflib.get_close_matches(name, choices, n=SUGGESTIONS, cutoff=0.5)
    if not close:
        folded = {choice.lower(): choice for choice in choices}
        close = [folded[c] for c in difflib.get_close_matches(name.lower(), folded, n=SUGGESTIONS, cutoff=0.5)]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    if kind == "topic":
        hint += f" Topics: {', '.join(choices)}."
    return f'Unknown {kind} "{name}".{hint}'


def known_names(kind: FilterKind, gazetteer: Gazetteer | None = None) -> list[str]:
    """Display names users can pick for a filter kind (for errors and autocomplete)."""
    gazetteer = gazetteer or load_gazetteer()
    if kind == "country":
        return sorted(gazetteer.countries.values())
    if kind == "region":
        return sorted(region.name for region in gazetteer.regions.values())
    return [topic.label for topic in gazetteer.topics.values()]


def resolve_languages(names: Sequence[str]) -> list[str]:
    """ISO 639-1 codes for languages as typed ("pt", "Portuguese", "deu"), in order; an unknown one raises."""
    codes: list[str] = []
    for name in names:
        code = language_code(name)
        if code is None:
            raise UserInputError(f'Unknown language "{name}". Use a name or an ISO 639-1 code: "English", "pt", "de".')
        if code not in codes:
            codes.append(code)
    return codes


def channel_language(filters: Mapping[str, object]) -> str:
    """The language a channel usually reads: the first of its ``languages`` filter, English when it has none."""
    languages = filters.get("languages")
    return str(languages[0]) if isinstance(languages, list) and languages else "en"


def label_language(item: DigestItem, channel_language: str) -> DigestItem:
    """The item labelled "in Portuguese" when its story is not in ``channel_language`` (else as it is)."""
    if item.language is None or item.language == channel_language:
        return item
    return replace(item, language_label=f"in {language_name(item.language)}")


def _known_sources(database: Database, names: Sequence[str]) -> list[str]:
    with database.session() as session:
        outlets = sorted(set(session.scalars(select(Feed.name))))
    folded = {outlet.lower(): outlet for outlet in outlets}
    result = []
    for name in names:
        outlet = folded.get(name.lower())
        if outlet is None:
            close = difflib.get_close_matches(name.lower(), folded, n=SUGGESTIONS, cutoff=0.5)
            hint = f" Did you mean {', '.join(folded[c] for c in close)}?" if close else ""
            raise UserInputError(f'Unknown source "{name}".{hint} `/news sources` lists them.')
        result.append(outlet)
    return result


def _check_sizes(request: SubscriptionRequest) -> None:
    groups = (request.countries, request.regions, request.topics, request.keywords, request.sources, request.languages)
    if any(len(group) > MAX_FILTER_VALUES for group in groups):
        raise UserInputError(f"At most {MAX_FILTER_VALUES} values per filter.")
    if any(len(word) > MAX_KEYWORD_CHARS for word in request.keywords):
        raise UserInputError(f"Keywords are limited to {MAX_KEYWORD_CHARS} characters each.")
    if not 1 <= request.max_items <= MAX_ITEMS_LIMIT:
        raise UserInputError(f"The number of items must be between 1 and {MAX_ITEMS_LIMIT}.")
    if request.style not in STYLES:
        raise UserInputError(f'Unknown style "{request.style}". Use "short" (bullets) or "detailed".')


def require_manager(actor: Actor) -> None:
    """Refuse politely when the actor may not manage the channel."""
    if not actor.can_manage:
        raise PermissionDeniedError(
            "Only people who can manage this channel can change its news subscription. Ask a channel admin."
        )


def subscribe(
    database: Database,
    channel: ChannelRef,
    request: SubscriptionRequest,
    actor: Actor,
    *,
    default_timezone: str = "UTC",
    alert_defaults: AlertRule | None = None,
    now: datetime | None = None,
) -> SubscriptionInfo:
    """Create or replace the channel's subscription after checking permission and every value.

    Raises:
        PermissionDeniedError: the actor may not manage the channel.
        UserInputError: a value is invalid; nothing is changed.
    """
    require_manager(actor)
    _check_sizes(request)
    timezone = request.timezone or default_timezone
    schedule = Schedule.parse(request.schedule, timezone)
    gazetteer = load_gazetteer()
    countries = _resolve("country", request.countries, gazetteer)
    regions = _resolve("region", request.regions, gazetteer)
    topics = _resolve("topic", request.topics, gazetteer)
    sources = _known_sources(database, request.sources)
    keywords = sorted({word.strip().lower() for word in request.keywords if word.strip()})
    rule = AlertRule.parse(
        min_outlets=request.alert_outlets,
        min_countries=request.alert_countries,
        window_hours=request.alert_window,
        per_day=request.alerts_per_day,
        quiet_hours=request.quiet_hours,
        defaults=alert_defaults,
    )
    languages = resolve_languages(request.languages)
    filters = {
        "countries": countries[0],
        "regions": regions[0],
        "topics": topics[0],
        "keywords": keywords,
        "sources": sources,
        "languages": languages,
    }
    names = {
        "countries": countries[1],
        "regions": regions[1],
        "topics": topics[1],
        "keywords": keywords,
        "sources": sources,
        "languages": [language_name(code) for code in languages],
    }
    with database.session() as session:
        subscription = _find(session, channel) or Subscription(
            platform=channel.platform, workspace_id=channel.workspace_id, channel_id=channel.channel_id
        )
        subscription.schedule = str(schedule)
        subscription.timezone = schedule.timezone_name
        subscription.filters = {**filters, "names": names}
        subscription.max_items = request.max_items
        subscription.style = request.style
        subscription.updates = request.updates
        subscription.alerts = rule.to_json() if request.alerts else None
        subscription.paused_reason = None
        subscription.created_by = actor.user_id
        subscription.created_at = now or utcnow()
        session.add(subscription)
        session.flush()
        return subscription_info(subscription, now)


def unsubscribe(database: Database, channel: ChannelRef, actor: Actor) -> bool:
    """Remove the channel's subscription (and its outbox history); False when there was none."""
    require_manager(actor)
    with database.session() as session:
        subscription = _find(session, channel)
        if subscription is None:
            return False
        session.delete(subscription)
        return True


def get_subscription(database: Database, channel: ChannelRef, now: datetime | None = None) -> SubscriptionInfo | None:
    """The channel's subscription, or None."""
    with database.session() as session:
        subscription = _find(session, channel)
        return None if subscription is None else subscription_info(subscription, now)


def _find(session: Session, channel: ChannelRef) -> Subscription | None:
    return session.scalars(
        select(Subscription).where(
            Subscription.platform == channel.platform,
            Subscription.workspace_id == channel.workspace_id,
            Subscription.channel_id == channel.channel_id,
        )
    ).one_or_none()


@dataclass(frozen=True)
class ScheduledSubscription:
    """An active subscription's schedule, as the scheduler keeps one job for it."""

    id: int
    schedule: str
    timezone: str
    created_at: datetime  # an occurrence due since then and before the job existed is still served


def active_schedules(database: Database, platforms: Iterable[str]) -> list[ScheduledSubscription]:
    """The schedules of the subscriptions on `platforms` that are not paused, by id."""
    query = (
        select(Subscription.id, Subscription.schedule, Subscription.timezone, Subscription.created_at)
        .where(Subscription.paused_reason.is_(None), Subscription.platform.in_(list(platforms)))
        .order_by(Subscription.id)
    )
    with database.session() as session:
        return [ScheduledSubscription(*row) for row in session.execute(query)]


def subscription_info(subscription: Subscription, now: datetime | None = None) -> SubscriptionInfo:
    """How a stored subscription is shown to users, with its next due time."""
    schedule = Schedule.parse(subscription.schedule, subscription.timezone)
    filters = {key: list(value) for key, value in subscription.filters.items() if key != "names"}
    return SubscriptionInfo(
        id=subscription.id,
        channel=ChannelRef(subscription.platform, subscription.workspace_id, subscription.channel_id),
        schedule=subscription.schedule,
        timezone=subscription.timezone,
        filters=filters,
        filter_names=dict(subscription.filters.get("names", {})),
        max_items=subscription.max_items,
        style=subscription.style,
        paused_reason=subscription.paused_reason,
        next_digest_at=None if subscription.paused_reason else schedule.next_occurrence(now or utcnow()),
        updates=subscription.updates,
        alerts=AlertRule.from_json(subscription.alerts) if subscription.alerts else None,
    )
