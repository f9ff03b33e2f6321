"""Domain rules shared by demo mode, the stand-in and the panels (Qt-free, no I/O)."""
