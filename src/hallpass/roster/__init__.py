"""OneRoster CSV roster import: read the files, check them, and apply them as commands."""
