"""Open311 GeoReport v2: services are our case templates, requests our cases.

Endpoints (under ``/open311/v2/``, each ``.json`` or ``.xml``):

- ``GET services`` and ``GET services/{service_code}``: the active templates
  and their form fields as attributes (public, no key). Photo fields are not
  offered: their answers are attachments uploaded through the phone API.
- ``POST requests``: form-encoded (or multipart). ``api_key`` is the
  ``ExternalSystem``'s shared secret; the request is taken in by
  ``integrations.services.take_in`` as a draft case of its community, with the
  community's village official as caller, or waits in the review queue.
  ``first_name``, ``last_name``, ``phone``, ``email``, ``device_id``,
  ``account_id`` are accepted and dropped: no personal data of the reporter is
  kept anywhere (case, review queue, delivery log); ``media_url`` is kept only
  among what was sent.
- ``GET requests``, ``GET requests/{id}``: the cases the key's system filed,
  and no other; ``service_request_id`` is our case number. The key is sent
  in the ``X-Api-Key`` header (a POST may also carry it in its form).
  GeoReport allows ``api_key`` in the query string; we refuse it there (400,
  ``open311_key_in_url``), because URLs are written to access logs.
- ``GET tokens/{token}``: a request waiting for review answers with a token
  (``review-<id>``); this tells its case number once a commander made the case.

Our extensions, given as attributes so that any GeoReport client can send them:

- ``attribute[community]``: the code of the village or community (our area
  code at level 4, or the system's own code if an area mapping exists for
  it). GeoReport has no area; without it, or with a code we do not know, the
  request waits for a commander in the review queue (``unmapped_area``).
- ``attribute[external_id]``: the sender's own id of the request (at most 40
  characters). Given, a retry finds the first case and changes nothing
  (200 instead of 201); not given, each POST is a new request (a new uuid4).

Both names are reserved: a template field with either key cannot be answered
over Open311.
"""
