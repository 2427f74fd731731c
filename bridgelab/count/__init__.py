"""Exact n-gram counts over token shards (`bridgelab count`, docs/count.md)."""
