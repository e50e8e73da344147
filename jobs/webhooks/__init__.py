"""Signed webhooks (Standard Webhooks): endpoints, deliveries, the delivery task. See docs/automation.md."""
