"""CLI subcommands: each module defines `register(subparsers)` and is discovered automatically.

A command module must import cheaply: import keras, tensorflow or torch inside the
function that needs them, never at module level.
"""
