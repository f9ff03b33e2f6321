"""Convex protocol pieces that need no network: ids and value encoding."""
