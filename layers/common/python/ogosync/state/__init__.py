"""The DynamoDB state repository."""
