"""Root test configuration: real-infrastructure fixtures for every test folder."""

pytest_plugins = ["sceau_dev.testing.fixtures"]
