"""Signals other apps hook into (notifications, chat, outbound webhooks).

``case_event_recorded`` is sent after the transaction that wrote the event
commits, with ``case`` and ``event``: receivers never see rolled-back work.
"""

from django.dispatch import Signal

case_event_recorded = Signal()
