"""Keep learner contact details out of third-party debug logs.

At DEBUG, pymongo's command logger prints the documents we insert, which include the address an
e-mail goes to. Our own code never logs addresses; this keeps libraries from doing it either, even
when an operator turns DEBUG on to chase a problem.
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("pymongo.command",)


def silence_contact_leaks() -> None:
    """Raise the loggers that would print stored documents to INFO at least."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
