"""What a write changed, said by the writer: table -> document ids. Qt-free.

Every write path of the core returns a `ChangeSet`; the GUI merges those of one moment and announces
them once (console/ui/changes_bridge.py). A write by another process (a capture server, a headless
sync) is noticed by `DataVersion`: SQLite bumps `PRAGMA data_version` on a connection whenever another
connection commits, so a poll of one dedicated connection says "something changed" (not what).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Iterator, Mapping

ANY = "*"  # a table name standing for "some table changed, unknown which" (another process wrote)


class ChangeSet(Mapping[str, frozenset[str]]):
    """SQL table (or "component/table" for raw documents) -> ids of the documents written.

    A table with no known ids (a bulk rewrite, another process's commit) maps to an empty set and
    `whole` holds it: everything of that table may have changed.
    """

    __slots__ = ("_tables", "whole")

    def __init__(self, tables: Mapping[str, Iterable[str]] | None = None, *, whole: Iterable[str] = ()) -> None:
        self._tables: dict[str, set[str]] = {}
        self.whole: set[str] = set()
        for name, ids in (tables or {}).items():
            self._tables.setdefault(name, set()).update(ids)
        for name in whole:
            self.add_table(name)

    # -- building -------------------------------------------------------------------------------------
    def add(self, table: str, doc_id: str) -> None:
        self._tables.setdefault(table, set()).add(doc_id)

    def add_ids(self, table: str, ids: Iterable[str]) -> None:
        self._tables.setdefault(table, set()).update(ids)

    def add_table(self, table: str) -> None:
        """All of `table` may have changed."""
        self._tables.setdefault(table, set())
        self.whole.add(table)

    def merge(self, other: "ChangeSet | Mapping[str, Iterable[str]] | None") -> "ChangeSet":
        """Add `other` into this one (in place); returns self."""
        if other is None:
            return self
        for name, ids in other.items():
            self._tables.setdefault(name, set()).update(ids)
        self.whole |= getattr(other, "whole", set())
        return self

    @classmethod
    def of(cls, table: str, ids: Iterable[str] = ()) -> "ChangeSet":
        return cls({table: ids})

    @classmethod
    def everything(cls) -> "ChangeSet":
        return cls(whole=[ANY])

    # -- asking ---------------------------------------------------------------------------------------
    def touches(self, table: str, ids: Iterable[str] | None = None) -> bool:
        """Did `table` change (with `ids`: one of these documents)? Unknown changes count as touching."""
        if ANY in self.whole:
            return True
        if table not in self._tables:
            return False
        if ids is None or table in self.whole:
            return True
        found = self._tables[table]
        return any(i in found for i in ids)

    def touches_any(self, tables: Iterable[str]) -> bool:
        return any(self.touches(t) for t in tables)

    def __getitem__(self, table: str) -> frozenset[str]:
        return frozenset(self._tables[table])

    @property
    def tables(self) -> dict[str, set[str]]:
        """The mapping itself (table -> ids), for readers that want plain sets."""
        return self._tables

    def get_ids(self, table: str) -> set[str]:
        return set(self._tables.get(table, ()))

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __bool__(self) -> bool:
        return bool(self._tables)

    def count(self) -> int:
        """How many documents are named."""
        return sum(len(v) for v in self._tables.values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {len(v)}" + (" (all)" if k in self.whole else "") for k, v in self._tables.items())
        return f"ChangeSet({inner})"


def foreign_marker(path: Path | str) -> Path:
    """The file a writer outside the GUI (ops-console capture, ops-console sync) touches after each commit."""
    return Path(f"{path}-changed")


def note_foreign_write(path: Path | str | None) -> None:
    """Say "I committed" to a GUI that has this replica open (it cannot tell our commits from its own)."""
    if path is None:
        return
    try:
        foreign_marker(path).touch()
    except OSError:
        pass  # a read-only folder: the GUI still notices when it has not written itself meanwhile


class DataVersion:
    """Notices commits of other connections (other processes included) to one SQLite file.

    A dedicated connection, opened here and used from one thread only (SQLite's data_version is per
    connection). data_version cannot tell another process's commit from one of ours, so `changed()`
    says True when (a) the data version moved and we wrote nothing since the last look, or (b) a writer
    outside the GUI touched the marker file (`note_foreign_write`): a capture's commit right before one
    of ours is not lost. The writer thread calls `mark_own()` after each of our writes.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = sqlite3.connect(self.path, check_same_thread=False,
                                                                 isolation_level=None)
        self._last = self._read()
        self._marker = foreign_marker(path)
        self._last_marker = self._stamp()
        self._own = False

    def _read(self) -> int:
        assert self._conn is not None
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _stamp(self) -> int:
        try:
            return self._marker.stat().st_mtime_ns
        except OSError:
            return 0

    def mark_own(self) -> None:
        self._own = True

    def changed(self) -> bool:
        if self._conn is None:
            return False
        now, stamp = self._read(), self._stamp()
        foreign = (now != self._last and not self._own) or stamp != self._last_marker
        self._last, self._last_marker, self._own = now, stamp, False
        return foreign

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
