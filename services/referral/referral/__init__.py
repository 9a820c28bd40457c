"""Referral letters: routing, deadlines and the audit trail of each letter."""
