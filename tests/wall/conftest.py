"""Wall sockets: the chat tests' clean-up of communicators and the channel layer."""

from tests.chat.conftest import close_db_threads  # noqa: F401  (a fixture)
