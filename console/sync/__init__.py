"""Replica sync from a Convex deployment (streaming export). Qt-free."""
