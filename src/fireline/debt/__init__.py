"""Debt: markers with blame, the debt ledger, bug budget settings."""
