"""Shared foundations: base model, error vocabulary, health and worker heartbeat."""
