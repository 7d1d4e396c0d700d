"""The `ganflow train` sub-commands, one per file (options only; the logic is in
ganflow.training.commands); importing this package registers them on `train_app`."""

from ganflow.sampler.cli.train.common import train_app

# importing the command modules registers them on train_app, in this order (the help lists them so)
from ganflow.sampler.cli.train import classifier, fisgan, gan, reweight  # noqa: E402,F401  isort: skip
from ganflow.sampler.cli.train import flowgan  # noqa: E402,F401  isort: skip
from ganflow.sampler.cli.train import corrector  # noqa: E402,F401  isort: skip

__all__ = ["train_app"]
