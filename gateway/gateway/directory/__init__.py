"""The public directory at the edge: each gateway process keeps a copy of
the registry's public directory (`registry.lookup.PublicDirectory`, the
model the registry itself answers from), kept current by `feed`."""
