"""HQ's alerts: conditions of the fleet and the books raised once and cleared once, published
on MQTT and sent to webhooks (docs/hq.md §Alerts).

`rules` is the pure core (a snapshot and `now` in, alerts to raise and clear out); `watch` is
the thin shell (a periodic task of the HQ service, the store, MQTT, webhook delivery).
"""

from hq import HqError


class AlertError(HqError):
    """An alert operation was asked for something unknown (a kind, a subject)."""
