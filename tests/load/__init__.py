"""`make load`: people at the release minute, played by locust against the local stack."""
