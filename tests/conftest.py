"""Root test configuration: real-infrastructure fixtures for every test folder, and the
end-of-session conformance check of every credential the issuers signed (see
``sceau_dev.testing.conformance_session``: ``ISSUER_CONFORMANCE_DIR``, ``SCEAU_CONFORMANCE``)."""

pytest_plugins = ["sceau_dev.testing.fixtures", "sceau_dev.testing.conformance_session"]
