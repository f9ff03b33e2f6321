"""Webhook deliveries: secrets, diagnosis, replay, capture and import (Qt-free)."""
