"""The sending's Prometheus metrics (the worker's; prometheus-client's default
registry, served by kit.metrics' server with the platform's own)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

outcomes_total = Counter(
    "liaison_notifications_delivery_outcomes_total",
    "Outcomes of delivery attempts by channel and the state they left the delivery in "
    "(sent, failed, dead, suppressed).",
    ("channel", "state"),
)
deliveries = Gauge(
    "liaison_notifications_deliveries",
    "Deliveries by channel and state, as the last sending pass counted them.",
    ("channel", "state"),
)
dead_deliveries = Gauge(
    "liaison_notifications_dead_deliveries",
    "Deliveries whose attempts ran out or that a provider refused for good, "
    "waiting to be retried by hand.",
    ("channel",),
)
provider_seconds = Histogram(
    "liaison_notifications_provider_seconds",
    "Time a provider (the mail relay, the SMS or WeChat provider) took to answer one "
    "delivery, by outcome (accepted, transient, permanent).",
    ("provider", "outcome"),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
lost_leases_total = Counter(
    "liaison_notifications_lost_leases_total",
    "Outcomes a sender could not record because its lease had run out and another "
    "sender had taken the delivery.",
    ("channel",),
)


# The outcomes a provider's call ends in, and the states an attempt leaves.
OUTCOMES = ("accepted", "transient", "permanent")
ATTEMPT_STATES = ("sent", "failed", "dead", "suppressed")


def start(channels: dict[str, str]) -> None:
    """Export every series of the sender's channels ({channel: provider}) at
    zero from the start, so that alerts and panels over them (a rate, a
    ratio) have a series to read before the first delivery, not "no data"."""
    for channel, provider in channels.items():
        for outcome in OUTCOMES:
            provider_seconds.labels(provider=provider, outcome=outcome)
        for state in ATTEMPT_STATES:
            outcomes_total.labels(channel=channel, state=state)
        lost_leases_total.labels(channel=channel)
        dead_deliveries.labels(channel=channel)
