"""The notifications service: rules that tell the right people of every
workflow's events, templates, channels and deliveries, the in-app inbox,
preferences, and conversations between constituents, deputies and staff."""
