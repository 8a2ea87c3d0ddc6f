"""The `paceline` command line: one entry point, subcommands found by name."""
