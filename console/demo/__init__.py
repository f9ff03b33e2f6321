"""Deterministic, realistic demo data for the offline demo mode."""
