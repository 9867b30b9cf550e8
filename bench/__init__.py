"""The load test of the production server: see scripts/load-test."""
