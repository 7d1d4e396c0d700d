"""The `ganflow` command line (the console script is `ganflow.sampler.cli:main`).

main.py holds the root app and export/sample/info/eval/demo, compare.py compare, hub.py pull/push,
train/ the `ganflow train` commands (options only). Nothing here imports torch, ganflow.training or
ganflow.export at module level: commands that need them import them when invoked."""

from ganflow.sampler.cli.main import app, main

__all__ = ["app", "main"]
