"""The public directory at the edge: a read model of the registry's public
data in every gateway process (`model`), kept current by `feed`."""
