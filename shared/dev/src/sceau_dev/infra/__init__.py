"""Local real infrastructure for development, tests and the demo (no Docker engine needed).

* Kafka 4.x single node in KRaft mode, run on the machine's Java from the official artifacts on
Maven
  Central (resolved once by Maven into a cache, so later starts are offline and fast).
* A MongoDB-protocol server: ``mongod`` when one is on the PATH, otherwise FerretDB 1.24 (SQLite
  backend) built once from the Go module proxy and cached.

Binaries are cached per user (``~/.cache/sceau`` or ``$SCEAU_CACHE_DIR``); data and logs live in the
project's ignored ``.sceau/`` folder (or ``$SCEAU_HOME``).
"""
