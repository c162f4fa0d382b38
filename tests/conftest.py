"""Root test configuration: real-infrastructure fixtures for every test folder."""

pytest_plugins = ["sceau_shared.testing.fixtures"]
