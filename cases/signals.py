"""Signals other apps hook into (notifications, chat, outbound webhooks).

``case_event_saved`` is sent inside the transaction that writes the event, with
``case`` and ``event``: receivers' writes commit or roll back with it (use it
for rows that must agree with the timeline, such as notifications).

``case_event_recorded`` is sent after that transaction commits: receivers never
see rolled-back work (use it for pushes to the outside: sockets, webhooks).
"""

from django.dispatch import Signal

case_event_saved = Signal()
case_event_recorded = Signal()
