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
  kept anywhere (case, review queue, delivery log).
- The report's photo: ``media_url`` (an http or https address) is linked on
  the case as given and never fetched (a server that fetches what a client
  names can be made to call internal hosts); a multipart ``media`` file is
  checked as the case room checks photos (type read from the content, size
  bounded by ``JINSHAO_UPLOAD_LIMITS["image"]``), re-encoded without its
  metadata, kept with the case, and posted to the room, watermarked, when the
  room opens (dispatch). A file that is not an acceptable photo, or one sent
  with a request that would wait for review, is a 400 naming ``media``.
  ``GET requests`` answers ``media_url`` with the address the system sent, or
  else the address of ``requests/{id}/media.jpg``, the uploaded photo, which
  answers only to the same system's key.
- ``GET /open311/discovery.json`` / ``.xml``: GeoReport's service discovery
  (public). Every other address under ``/open311/`` answers GeoReport's error
  list (404), in XML when it ends in ``.xml``, else JSON.
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
