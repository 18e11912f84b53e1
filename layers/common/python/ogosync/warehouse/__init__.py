"""Warehouse adapters: the myOGO v1 API client."""
