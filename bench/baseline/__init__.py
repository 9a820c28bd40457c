"""The benchmark's baseline app (see app.py)."""
