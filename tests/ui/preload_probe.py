"""Imported by test_preload.py through console.ui.preload: records the thread that imported it."""

import threading

IMPORTED_ON_MAIN_THREAD = threading.current_thread() is threading.main_thread()
