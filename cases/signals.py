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

#: Several events written at once by one step (``cases.services.record_events``), sent
#: inside its transaction with ``case`` and ``events`` (in insertion order). Receivers of
#: ``case_event_saved`` that handle a batch themselves (audit, chat, notifications) connect
#: here and skip the per-event signal's ``batched=True`` sends; any other receiver still
#: gets every event one by one.
case_events_saved = Signal()
