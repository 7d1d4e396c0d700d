"""The `ganflow train` sub-commands, one per file; importing this package registers them."""

from ganflow.sampler.train_cmds.common import train_app

# importing the command modules registers them on train_app
from ganflow.sampler.train_cmds import classifier, fisgan, gan, reweight  # noqa: E402,F401  isort: skip
from ganflow.sampler.train_cmds import flowgan  # noqa: E402,F401  isort: skip
from ganflow.sampler.train_cmds import corrector  # noqa: E402,F401  isort: skip

__all__ = ["train_app"]
