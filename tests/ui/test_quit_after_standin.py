"""Issue 15: quitting after "Try live mode with a local stand-in" must not crash at exit (run() waited for
the live connection's close on the qasync loop after `with loop` had closed it)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import sys
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from console.ui import app as A

    original = A.build_window

    def build(qt_app, replica):
        ctx, window = original(qt_app, replica)

        def go():
            window.connect_standin()

            def check():
                live = ctx.live
                if live is not None and live.last_state is not None and live.last_state.status == "live":
                    print("LIVE", window.standin_replica, window.standin_replica.exists(), flush=True)
                    window.close()  # the last window: the app quits, the live connection closes
                else:
                    QTimer.singleShot(100, check)

            QTimer.singleShot(100, check)

        QTimer.singleShot(0, go)
        return ctx, window

    A.build_window = build
    sys.exit(A.run(db=Path(sys.argv[1])))
''')


def test_quit_after_the_standin_exits_cleanly(demo_db, private_home):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OPS_CONSOLE_HOME=str(private_home))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(demo_db)], env=env, capture_output=True, text=True,
                          timeout=180, cwd=Path(__file__).resolve().parents[2])
    assert "LIVE" in done.stdout, done.stderr[-3000:]
    # (websockets may log a keepalive failure as the stand-in stops first: not the exit crash this is about)
    assert "AttributeError" not in done.stderr and "exec_" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(li for li in done.stdout.splitlines() if li.startswith("LIVE"))
    _live, replica, existed = line.split()
    assert existed == "True" and not Path(replica).exists()  # the stand-in's replica was not left behind
