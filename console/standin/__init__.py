"""A local stand-in for a Convex deployment: answers the HTTP protocol exactly like one, for tests and for
trying live mode without a deployment. It never replaces a deployment."""
