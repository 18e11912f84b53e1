"""Store platform adapters: the only modules that know a store's API."""
