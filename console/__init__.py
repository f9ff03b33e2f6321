"""Convex Ops Console: a desktop operations console for SaaS products built on Convex."""

__version__ = "0.1.0"
