from PySide6.QtGui import QImage

from console.ui.screenshot import take_screenshots


def test_screenshot_renders_every_panel(tmp_path, demo_db, qapp):
    paths = take_screenshots(tmp_path / "shots", db=demo_db)
    names = {p.stem for p in paths}
    assert {"users", "users-timeline", "users-deactivated", "quick-find", "settings"} <= names
    for p in paths:
        image = QImage(str(p))
        assert image.width() > 300 and image.height() > 200, p
        # not a blank picture: many distinct colours
        colours = {image.pixel(x, y) for x in range(0, image.width(), 23) for y in range(0, image.height(), 19)}
        assert len(colours) > 5, p
