"""Domestic-violence cases: victims, perpetrators, incidents, risk, protection orders."""
