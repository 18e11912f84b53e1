"""Sync engines: one per flow, pure logic over the ports."""
