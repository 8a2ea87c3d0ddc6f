"""Machinery every workload shares: the data cache, batch iterators, framework bases."""
