"""No Qt object of the UI hides a Qt method behind an attribute of the same name (`self.actions = ...` on a
QWidget replaces QWidget.actions(); `self.result = QLabel()` on a QDialog replaces QDialog.result()), and
none replaces show/hide/close/update/result with a method that means something else: Qt and Qt's own
code call them, and mypy reported three such cases."""

import ast
import importlib
import inspect
import pkgutil

import console.ui
from PySide6.QtCore import QObject

NEVER_REDEFINED = {"show", "hide", "close", "update", "result", "actions", "parent", "size", "layout",
                   "window", "children", "exec", "open", "accept", "reject", "done"}


def ui_classes():
    for info in pkgutil.walk_packages(console.ui.__path__, "console.ui."):
        if info.name.endswith("screenshot"):
            continue
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, QObject):
                yield cls


def qt_methods(cls) -> set[str]:
    out = set()
    for base in cls.__mro__:
        if base.__module__.startswith(("PySide6", "shiboken6")):
            out |= {n for n, v in vars(base).items() if callable(v) and not n.startswith("_")}
    return out


def test_no_attribute_or_unrelated_method_shadows_a_qt_method():
    problems = []
    for cls in ui_classes():
        qt = qt_methods(cls)
        tree = ast.parse(inspect.getsource(cls).lstrip() if inspect.getsource(cls)[0] != " " else
                         "if True:\n" + inspect.getsource(cls))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                            and t.attr in qt):
                        problems.append(f"{cls.__module__}.{cls.__name__}: self.{t.attr} = ... hides Qt's {t.attr}()")
            elif isinstance(node, ast.FunctionDef) and node.name in NEVER_REDEFINED and node.name in qt:
                required = len(node.args.args) - len(node.args.defaults)
                if required > 1:  # self plus something Qt never passes
                    problems.append(f"{cls.__module__}.{cls.__name__}.{node.name}() redefines Qt's {node.name}() "
                                    f"with other arguments")
    assert not problems, "\n".join(sorted(set(problems)))
