"""AWS adapters other than the state table: queues and secrets."""
