"""Application assets (icons), installed as the package `console.resources`."""
