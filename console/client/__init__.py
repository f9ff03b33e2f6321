"""Convex deployment client (Qt-free, asyncio + httpx)."""

from console.client.client import ConvexClient
from console.client.errors import ConvexRequestError
from console.client.http import Deployment

__all__ = ["ConvexClient", "ConvexRequestError", "Deployment"]
