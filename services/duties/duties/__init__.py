"""The duties service: deputies' five ones, ballots, visits and the public duty record."""
