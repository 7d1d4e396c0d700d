"""`python -m ganflow.sampler.cli ...` (and `torchrun ... -m ganflow.sampler.cli ...`)."""

from ganflow.sampler.cli import main

if __name__ == "__main__":
    main()
