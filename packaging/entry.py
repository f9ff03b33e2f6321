"""The bundle's entry point: the same CLI as `ops-console`."""

from console.cli import main

raise SystemExit(main())
