"""Chats: message sources (replica or on-demand) and the hover-prefetch cache (Qt-free)."""
