"""The fault suite: crawls against a hostile loopback server and damaged databases (CASES.md)."""
