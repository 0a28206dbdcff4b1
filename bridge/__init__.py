"""allim bridge: Alertmanager webhooks to durable email and Discord notifications."""
